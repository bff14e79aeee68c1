//! The Exif metadata of a capture: a `UserComment` naming the invocation that took it and
//! where its provenance record is, as OpenFlexure stores the state of its Things there.

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};

/// The APP1 segment data (`Exif\0\0` and a TIFF structure) holding `comment` as the
/// `UserComment`, in ASCII.
pub fn user_comment(comment: &str) -> Result<Vec<u8>, String> {
    let mut text = b"ASCII\0\0\0".to_vec();
    text.extend_from_slice(comment.as_bytes());
    let field = Field {
        tag: Tag::UserComment,
        ifd_num: In::PRIMARY,
        value: Value::Undefined(text, 0),
    };
    let mut writer = Writer::new();
    writer.push_field(&field);
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).map_err(|e| e.to_string())?;
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff.into_inner());
    Ok(segment)
}

/// The `UserComment` of a JPEG's Exif metadata, if it has one in ASCII.
pub fn read_user_comment(jpeg: &[u8]) -> Option<String> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(jpeg))
        .ok()?;
    let field = exif.get_field(Tag::UserComment, In::PRIMARY)?;
    match &field.value {
        Value::Undefined(bytes, _) => {
            let text = bytes.strip_prefix(b"ASCII\0\0\0")?;
            String::from_utf8(text.to_vec()).ok()
        }
        _ => None,
    }
}
