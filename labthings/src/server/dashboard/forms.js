// Inputs generated from JSON schemas, and views of values: fields for objects, rows for
// arrays, rather than JSON text.

/**
 * Create an element. `props` sets DOM properties, except `class`, `text` (the text content)
 * and `data-*` / `aria-*` (attributes); null and undefined are skipped, as are null children.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((child) => child != null));
  return node;
}

/** A value as text: strings, numbers and booleans plain, anything else as compact JSON. */
export function showValue(value) {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** JSON text as a value: `null` when empty, the text itself when it is not JSON. */
export function parseJson(text) {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---- Inputs -------------------------------------------------------------------------------

/** The JSON type an input is made for: `type`, or the one non-null type of `[T, "null"]`. */
export function schemaType(schema) {
  const types = [schema?.type].flat().filter((type) => type && type !== 'null');
  return types.length === 1 ? types[0] : undefined;
}

/**
 * An editor for a value of `schema`: `{input, read(), show(value), dirty}`. `read()` returns
 * undefined when the input was left empty (an `optional` field is then left out) and throws
 * an Error for an invalid entry; `dirty` is set once the user edits the input, so that live
 * values stop overwriting it. With `upload` (an action's input: `upload(file, mediaType)`
 * posts a blob and answers its link), binary data is a file to upload, and `read()` returns a
 * promise of its link. Objects with declared properties get a field per property, arrays of
 * one item schema a row per item; other schemas (`oneOf`, tuples…) JSON text.
 */
export function makeEditor(schema = {}, optional = false, upload = null) {
  const type = schemaType(schema);
  let editor;
  if (type === 'integer' || type === 'number') editor = numberEditor(schema, type === 'integer');
  else if (type === 'boolean') editor = checkboxEditor();
  else if (type === 'string' && Array.isArray(schema.enum)) editor = selectEditor(schema.enum, optional);
  else if (type === 'string') editor = textEditor(schema, optional);
  else if (upload && blobSchema(schema)) {
    const { blob, nullable } = blobSchema(schema);
    editor = fileEditor(blob, optional || nullable, upload);
  }
  else if (isFieldsSchema(schema)) editor = objectEditor(schema, optional);
  else if (isListSchema(schema)) editor = arrayEditor(schema, optional);
  else editor = jsonEditor();
  editor.dirty = false;
  const touched = () => { editor.dirty = true; };
  editor.input.addEventListener('input', touched);
  editor.input.addEventListener('change', touched);
  return editor;
}

function numberEditor(schema, integer) {
  const input = el('input', { type: 'number', class: 'input' });
  // `exclusiveMinimum` is a number since JSON Schema draft 6 (a boolean before).
  const min = [schema.minimum, schema.exclusiveMinimum].find((v) => typeof v === 'number');
  const max = [schema.maximum, schema.exclusiveMaximum].find((v) => typeof v === 'number');
  if (min !== undefined) input.min = min;
  if (max !== undefined) input.max = max;
  input.step = schema.multipleOf ?? (integer ? 1 : 'any');
  return {
    input,
    read() {
      if (input.value.trim() === '') return undefined;
      const value = Number(input.value);
      if (!Number.isFinite(value)) throw new Error(`"${input.value}" is not a number`);
      if (integer && !Number.isInteger(value)) throw new Error(`${value} is not an integer`);
      return value;
    },
    show(value) {
      input.value = typeof value === 'number' ? String(value) : '';
    },
  };
}

function checkboxEditor() {
  const input = el('input', { type: 'checkbox', class: 'input' });
  return {
    input,
    read: () => input.checked,
    show(value) {
      input.checked = value === true;
    },
  };
}

function selectEditor(choices, optional) {
  const options = choices.filter((c) => typeof c === 'string').map((c) => el('option', { value: c, text: c }));
  const input = el('select', { class: 'input' }, optional ? el('option', { value: '', text: '' }) : null, ...options);
  return {
    input,
    read: () => (optional && input.value === '' ? undefined : input.value),
    show(value) {
      input.value = value ?? '';
    },
  };
}

function textEditor(schema, optional) {
  const input = el('input', { type: 'text', class: 'input', autocomplete: 'off' });
  if (Number.isInteger(schema.maxLength)) input.maxLength = schema.maxLength;
  if (Number.isInteger(schema.minLength)) input.minLength = schema.minLength;
  // A JSON Schema pattern may match anywhere in the string; an HTML one must match all of it.
  if (typeof schema.pattern === 'string') input.pattern = `.*(?:${schema.pattern}).*`;
  return {
    input,
    read: () => (optional && input.value === '' ? undefined : input.value),
    show(value) {
      input.value = value ?? '';
    },
  };
}

/** Whether `schema` is a blob link's: an argument that takes binary data. */
export function isBlobSchema(schema) {
  const properties = schema?.properties ?? {};
  return schemaType(schema) === 'object' && 'href' in properties && 'media_type' in properties;
}

/** The blob schema of `schema`, itself or as the one choice besides `null`; and whether null is allowed. */
function blobSchema(schema) {
  if (isBlobSchema(schema)) return { blob: schema, nullable: false };
  const choices = schema?.anyOf ?? schema?.oneOf;
  if (!Array.isArray(choices)) return null;
  const blobs = choices.filter(isBlobSchema);
  const nulls = choices.filter((c) => c?.type === 'null');
  if (blobs.length === 1 && blobs.length + nulls.length === choices.length) {
    return { blob: blobs[0], nullable: nulls.length > 0 };
  }
  return null;
}

/**
 * Binary data: a file, uploaded with `POST {prefix}/blob` when the action is invoked; the link
 * the server answers is the value.
 */
function fileEditor(schema, optional, upload) {
  const fixed = schema.properties.media_type?.const;
  const input = el('input', { type: 'file', class: 'input' });
  if (typeof fixed === 'string') input.accept = fixed;
  return {
    input,
    uploads: true,
    async read() {
      const file = input.files[0];
      if (!file) {
        if (optional) return undefined;
        throw new Error('choose a file');
      }
      const type = typeof fixed === 'string' ? fixed : file.type || 'application/octet-stream';
      const link = await upload(file, type);
      return { href: link.href, media_type: link.media_type };
    },
    show() {},
  };
}

/** A sub-schema, which may be `true` (anything goes), as an object. */
function subSchema(schema) {
  return schema && typeof schema === 'object' ? schema : {};
}

/** Whether `schema` is an object with declared properties (and no blob link). */
function isFieldsSchema(schema) {
  return schemaType(schema) === 'object' && schema.properties && typeof schema.properties === 'object'
    && Object.keys(schema.properties).length > 0 && !isBlobSchema(schema);
}

/** Whether `schema` is an array of items of one schema. */
function isListSchema(schema) {
  return schemaType(schema) === 'array' && !Array.isArray(schema.prefixItems)
    && !Array.isArray(schema.items) && schema.items !== undefined;
}

/** The labelled row of one field: its name (optional or not), its input and unit. */
export function fieldRow(name, schema, editor, optional) {
  return el('label', { class: 'field', title: schema.description },
    el('span', { class: 'field-name', text: `${name}${optional ? ' (optional)' : ''}` }),
    el('span', { class: 'field-input' },
      editor.input,
      schema.unit ? el('span', { class: 'unit', text: schema.unit }) : null));
}

/** An object: one editor per declared property, in a fieldset. */
function objectEditor(schema, optional) {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties).map(([name, sub]) => {
    const fieldSchema = subSchema(sub);
    const fieldOptional = !required.has(name);
    const editor = makeEditor(fieldSchema, fieldOptional);
    editor.input.dataset.field = name;
    return { name, editor, row: fieldRow(name, fieldSchema, editor, fieldOptional) };
  });
  const input = el('fieldset', { class: 'input object-fields' }, ...fields.map((f) => f.row));
  return {
    input,
    read() {
      const value = {};
      for (const { name, editor } of fields) {
        let field;
        try {
          field = editor.read();
        } catch (error) {
          throw new Error(`${name}: ${error.message}`);
        }
        if (field !== undefined) value[name] = field;
      }
      return optional && Object.keys(value).length === 0 ? undefined : value;
    },
    show(value) {
      for (const { name, editor } of fields) editor.show(value?.[name]);
    },
  };
}

/** An array: one editor per item, each with a button that removes it, and one that adds one. */
function arrayEditor(schema, optional) {
  const itemSchema = subSchema(schema.items);
  const list = el('ol', { class: 'items' });
  const addButton = el('button', { type: 'button', class: 'add-item', text: '+ item' });
  const input = el('fieldset', { class: 'input items-editor' }, list, addButton);
  const rows = [];
  const edited = () => input.dispatchEvent(new Event('input', { bubbles: true }));
  const add = (value) => {
    const editor = makeEditor(itemSchema, false);
    const remove = el('button', { type: 'button', class: 'remove-item', text: '×', title: 'remove this item' });
    const entry = { editor, row: el('li', { class: 'item' }, editor.input, remove) };
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(entry), 1);
      entry.row.remove();
      edited();
    });
    if (value !== undefined) editor.show(value);
    rows.push(entry);
    list.append(entry.row);
  };
  addButton.addEventListener('click', () => {
    add();
    edited();
  });
  return {
    input,
    read() {
      if (optional && rows.length === 0) return undefined;
      return rows.map(({ editor }, i) => {
        try {
          return editor.read() ?? null;
        } catch (error) {
          throw new Error(`item ${i + 1}: ${error.message}`);
        }
      });
    },
    show(value) {
      rows.length = 0;
      list.replaceChildren();
      if (Array.isArray(value)) value.forEach((item) => add(item));
    },
  };
}

/** Schemas without fields of their own (`oneOf`, tuples…): JSON in a textarea. */
function jsonEditor() {
  const input = el('textarea', { class: 'input json', rows: 2, spellcheck: false, placeholder: 'JSON' });
  return {
    input,
    read() {
      if (input.value.trim() === '') return undefined;
      try {
        return JSON.parse(input.value);
      } catch (error) {
        throw new Error(`not valid JSON: ${error.message}`);
      }
    },
    show(value) {
      input.value = value === undefined ? '' : JSON.stringify(value, null, 2);
      input.rows = Math.min(10, Math.max(2, input.value.split('\n').length));
    },
  };
}


// ---- Values shown -------------------------------------------------------------------------

/**
 * A value as elements: strings, numbers and booleans as text, an object as a list of its
 * fields, an array as a numbered list of its items (nested alike).
 */
export function valueView(value) {
  if (Array.isArray(value)) {
    if (value.length === 0) return document.createTextNode('[]');
    return el('ol', { class: 'view-items' }, ...value.map((item) => el('li', {}, valueView(item))));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return document.createTextNode('{}');
    return el('dl', { class: 'view-fields' },
      ...entries.flatMap(([name, field]) => [
        el('dt', { text: name }),
        el('dd', { 'data-field': name }, valueView(field)),
      ]));
  }
  return document.createTextNode(showValue(value));
}
