//! Bearer tokens with scopes.

use crate::interaction::Scope;

/// The shortest token accepted: shorter ones are too easy to guess.
pub(crate) const MIN_TOKEN_LEN: usize = 16;

/// The configured tokens. Compared in constant time; never logged nor shown.
#[derive(Clone, Default)]
pub(crate) struct Tokens {
    tokens: Vec<Entry>,
}

/// One token, its scope, and who holds it (as provenance records name them).
#[derive(Clone)]
struct Entry {
    token: Box<[u8]>,
    scope: Scope,
    #[cfg_attr(not(feature = "provenance"), allow(dead_code))]
    subject: Option<std::sync::Arc<str>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.tokens.len())
    }
}

impl Tokens {
    pub(crate) fn add(&mut self, scope: Scope, token: &str, subject: Option<&str>) {
        self.tokens.push(Entry {
            token: token.as_bytes().into(),
            scope,
            subject: subject.map(std::sync::Arc::from),
        });
    }

    /// Whether authentication is on.
    pub(crate) fn enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Who holds token number `index`, as provenance records name them: the subject it was
    /// configured with, or `operate token 2` (its scope and its place among the tokens, from
    /// 1).
    #[cfg(feature = "provenance")]
    pub(crate) fn subject(&self, index: usize) -> Option<String> {
        let entry = self.tokens.get(index)?;
        Some(match &entry.subject {
            Some(subject) => subject.to_string(),
            None => format!("{} token {}", entry.scope.as_str(), index + 1),
        })
    }

    /// The scope of `token`, if it is one of ours. Every token is compared, in constant time.
    #[cfg(test)]
    pub(crate) fn scope_of(&self, token: &[u8]) -> Option<Scope> {
        self.grant(token).map(|(scope, _)| scope)
    }

    /// The scope of `token` and its place among the tokens (which tells its holder apart
    /// from other clients), if it is one of ours. Every token is compared, in constant time.
    pub(crate) fn grant(&self, token: &[u8]) -> Option<(Scope, usize)> {
        let mut found: Option<(Scope, usize)> = None;
        for (index, entry) in self.tokens.iter().enumerate() {
            if constant_time_eq::constant_time_eq(&entry.token, token)
                && found.is_none_or(|(best, _)| entry.scope > best)
            {
                found = Some((entry.scope, index));
            }
        }
        found
    }
}

/// One token of a token file: its scope, the token, and who holds it.
#[cfg(feature = "cli")]
pub(crate) type FileToken = (Scope, String, Option<String>);

/// Parse a token file: one `scope token [subject]` line per token (the subject names who
/// holds it, in provenance records); `#` starts a comment.
#[cfg(feature = "cli")]
pub(crate) fn parse_token_file(text: &str) -> Result<Vec<FileToken>, String> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.split('#').next().unwrap_or_default().trim();
            (!line.is_empty()).then_some((i + 1, line))
        })
        .map(|(number, line)| {
            let (scope, token) = line.split_once(char::is_whitespace).ok_or_else(|| {
                format!("line {number}: expected `observe TOKEN`, `operate TOKEN` or `admin TOKEN`")
            })?;
            let scope = match scope {
                "observe" => Scope::Observe,
                "operate" => Scope::Operate,
                "admin" => Scope::Admin,
                other => {
                    return Err(format!(
                        "line {number}: unknown scope `{other}`: use `observe`, `operate` or \
                         `admin`"
                    ));
                }
            };
            let (token, subject) = match token.trim().split_once(char::is_whitespace) {
                Some((token, subject)) => (token, Some(subject.trim())),
                None => (token.trim(), None),
            };
            check_token(token).map_err(|e| format!("line {number}: {e}"))?;
            if let Some(subject) = subject {
                check_subject(subject).map_err(|e| format!("line {number}: {e}"))?;
            }
            Ok((scope, token.to_owned(), subject.map(str::to_owned)))
        })
        .collect()
}

/// The longest subject of a token.
pub(crate) const MAX_SUBJECT_LEN: usize = 200;

/// A token's subject is a name: not empty, without control characters, at most
/// [`MAX_SUBJECT_LEN`] bytes.
pub(crate) fn check_subject(subject: &str) -> Result<(), String> {
    if subject.trim().is_empty() || subject.len() > MAX_SUBJECT_LEN {
        return Err(format!(
            "a token's subject has 1 to {MAX_SUBJECT_LEN} characters"
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err("a token's subject has no control characters".into());
    }
    Ok(())
}

/// A token must be long enough, and made of characters that survive a header.
pub(crate) fn check_token(token: &str) -> Result<(), String> {
    if token.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "a token has at least {MIN_TOKEN_LEN} characters (this one has {})",
            token.len()
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a token is made of printable ASCII characters without spaces".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_map_to_their_scopes() {
        let mut tokens = Tokens::default();
        tokens.add(Scope::Observe, "viewer-0123456789", None);
        tokens.add(Scope::Operate, "operator-0123456789", Some("the robot"));
        assert_eq!(tokens.scope_of(b"viewer-0123456789"), Some(Scope::Observe));
        assert_eq!(
            tokens.scope_of(b"operator-0123456789"),
            Some(Scope::Operate)
        );
        assert_eq!(tokens.scope_of(b"operator-012345678"), None);
        assert!(Scope::Operate > Scope::Observe);
        assert!(!format!("{tokens:?}").contains("viewer"));
        #[cfg(feature = "provenance")]
        {
            assert_eq!(tokens.subject(0).as_deref(), Some("observe token 1"));
            assert_eq!(tokens.subject(1).as_deref(), Some("the robot"));
        }
    }

    #[test]
    #[cfg(feature = "cli")]
    fn token_files_are_checked_line_by_line() {
        let parsed = parse_token_file(
            "# the dashboard\nobserve viewer-0123456789\n\noperate operator-0123456789 scan robot # scripts\n",
        )
        .unwrap();
        assert_eq!(parsed.len(), 2);
        let robot = Some("scan robot".to_owned());
        assert_eq!(
            parsed[1],
            (Scope::Operate, "operator-0123456789".into(), robot)
        );
        assert_eq!(
            parse_token_file("admin admin-0123456789ab").unwrap(),
            [(Scope::Admin, "admin-0123456789ab".into(), None)]
        );
        assert!(
            parse_token_file("root x-0123456789abcdef")
                .unwrap_err()
                .contains("line 1: unknown scope `root`")
        );
        assert!(
            parse_token_file("observe short")
                .unwrap_err()
                .contains("at least 16")
        );
    }
}
