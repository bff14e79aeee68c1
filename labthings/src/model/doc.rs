//! Doc comments as TD `title` and `description`.

/// The documentation of a Thing or an affordance: its doc comment and explicit overrides.
///
/// The rule: the first paragraph of the doc comment (its lines joined by spaces) is the
/// `title`, the remaining paragraphs are the `description`. An explicit `title = "…"` wins, and
/// then the whole doc comment is the description. An explicit `description = "…"` wins over
/// the doc comment. Without any of them, the TD title is the Rust name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doc {
    /// The doc comment, one line per `///` line.
    pub text: &'static str,
    /// An explicit title.
    pub title: Option<&'static str>,
    /// An explicit description.
    pub description: Option<&'static str>,
}

impl Doc {
    /// Documentation from a doc comment only.
    pub const fn new(text: &'static str) -> Self {
        Self {
            text,
            title: None,
            description: None,
        }
    }

    /// The TD title, if any.
    pub fn title(&self) -> Option<String> {
        if let Some(title) = self.title {
            return Some(title.to_owned());
        }
        let (first, _) = split(self.text);
        (!first.is_empty()).then_some(first)
    }

    /// The TD description, if any.
    pub fn description(&self) -> Option<String> {
        if let Some(description) = self.description {
            return Some(description.to_owned());
        }
        let rest = if self.title.is_some() {
            paragraphs(self.text).join("\n\n")
        } else {
            split(self.text).1
        };
        (!rest.is_empty()).then_some(rest)
    }
}

fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

fn split(text: &str) -> (String, String) {
    let mut paragraphs = paragraphs(text).into_iter();
    let first = paragraphs
        .next()
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    (first, paragraphs.collect::<Vec<_>>().join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_paragraph_is_the_title_and_the_rest_the_description() {
        let doc = Doc::new("A pointless counter.\n\nLonger description\nof the counter.\n\nMore.");
        assert_eq!(doc.title().as_deref(), Some("A pointless counter."));
        assert_eq!(
            doc.description().as_deref(),
            Some("Longer description\nof the counter.\n\nMore.")
        );
    }

    #[test]
    fn a_wrapped_first_paragraph_is_joined() {
        let doc = Doc::new("The current\ncount.");
        assert_eq!(doc.title().as_deref(), Some("The current count."));
        assert_eq!(doc.description(), None);
    }

    #[test]
    fn explicit_title_wins_and_the_doc_becomes_the_description() {
        let doc = Doc {
            title: Some("Count"),
            ..Doc::new("The current count.\n\nDetails.")
        };
        assert_eq!(doc.title().as_deref(), Some("Count"));
        assert_eq!(
            doc.description().as_deref(),
            Some("The current count.\n\nDetails.")
        );
    }

    #[test]
    fn no_doc_means_no_title() {
        let doc = Doc::new("");
        assert_eq!((doc.title(), doc.description()), (None, None));
        let doc = Doc {
            description: Some("Given."),
            ..Doc::new("\n\n")
        };
        assert_eq!(doc.description().as_deref(), Some("Given."));
    }
}
