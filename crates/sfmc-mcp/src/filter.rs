//! Which tools a server offers — policy apart from the tools themselves: read-only mode keeps
//! only tools that change nothing, `--allow` patterns (when any) keep only matching tools, and
//! `--deny` patterns remove matching ones (deny wins). Patterns are globs on tool names: `*`
//! any run of characters, `?` any one.

use crate::options::OptionsError;

/// A checked glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    /// Checks `text` as a pattern for `--flag`: lower-case letters, digits, `_`, `*`, `?`.
    pub fn parse(flag: &'static str, text: &str) -> Result<Self, OptionsError> {
        let invalid = |reason: &str| OptionsError::InvalidPattern {
            flag,
            pattern: text.chars().take(100).collect(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(invalid("empty"));
        }
        if text.len() > 128 {
            return Err(invalid("longer than 128 characters"));
        }
        if let Some(bad) = text.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '*' | '?'))
        }) {
            return Err(invalid(&format!(
                "{bad:?} is not a lower-case letter, digit, '_', '*' or '?'"
            )));
        }
        Ok(Self(text.to_owned()))
    }

    /// Whether `name` matches (the whole name).
    pub fn matches(&self, name: &str) -> bool {
        glob(self.0.as_bytes(), name.as_bytes())
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Glob matching with `*` and `?`, linear backtracking to the last `*`.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Why a tool is not offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hidden {
    /// The server is read-only and the tool changes something.
    ReadOnly,
    /// A `--deny` pattern matches it.
    Denied(String),
    /// `--allow` patterns are given and none matches it.
    NotAllowed,
}

impl Hidden {
    /// Why, in words, for the error a call to the tool gets.
    pub fn reason(&self) -> String {
        match self {
            Self::ReadOnly => {
                "the server is read-only (--read-only) and this tool changes data".into()
            }
            Self::Denied(pattern) => format!("it is denied by --deny {pattern}"),
            Self::NotAllowed => "no --allow pattern matches it".into(),
        }
    }
}

/// The policy: read-only, allow and deny.
#[derive(Debug, Clone, Default)]
pub struct ToolFilter {
    read_only: bool,
    allow: Vec<Pattern>,
    deny: Vec<Pattern>,
}

impl ToolFilter {
    /// The policy of these options, every pattern checked.
    pub fn new(read_only: bool, allow: &[String], deny: &[String]) -> Result<Self, OptionsError> {
        let parse = |flag, texts: &[String]| -> Result<Vec<Pattern>, OptionsError> {
            texts.iter().map(|t| Pattern::parse(flag, t)).collect()
        };
        Ok(Self {
            read_only,
            allow: parse("allow", allow)?,
            deny: parse("deny", deny)?,
        })
    }

    /// Whether the server is read-only.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the tool `name` (that changes nothing when `read_only_tool`) is offered.
    pub fn check(&self, name: &str, read_only_tool: bool) -> Result<(), Hidden> {
        if let Some(pattern) = self.deny.iter().find(|p| p.matches(name)) {
            return Err(Hidden::Denied(pattern.as_str().to_owned()));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|p| p.matches(name)) {
            return Err(Hidden::NotAllowed);
        }
        if self.read_only && !read_only_tool {
            return Err(Hidden::ReadOnly);
        }
        Ok(())
    }

    /// Refuses a pattern that matches none of `names` (all tools, before filtering).
    pub fn check_patterns_match<'a>(
        &self,
        names: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<(), OptionsError> {
        let lists = [("allow", &self.allow), ("deny", &self.deny)];
        for (flag, patterns) in lists {
            for pattern in patterns {
                if !names.clone().any(|n| pattern.matches(n)) {
                    return Err(OptionsError::MatchesNothing {
                        flag,
                        pattern: pattern.as_str().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Pattern {
        Pattern::parse("allow", text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(pattern("sfmc_get_*").matches("sfmc_get_campaigns"));
        assert!(!pattern("sfmc_get_*").matches("sfmc_create_campaign"));
        assert!(pattern("*campaign*").matches("sfmc_create_campaign"));
        assert!(pattern("sfmc_get_campaign?").matches("sfmc_get_campaigns"));
        assert!(!pattern("sfmc_get_campaign").matches("sfmc_get_campaigns"));
        assert!(pattern("*").matches("anything"));
        assert!(pattern("a*b*c").matches("axxbyyc"));
        assert!(!pattern("a*b*c").matches("axxbyy"));
    }

    #[test]
    fn bad_patterns_are_refused_with_the_reason() {
        for bad in ["", "sfmc_Get", "sfmc get", "sfmc_[a]"] {
            let error = Pattern::parse("deny", bad).err();
            assert!(
                matches!(
                    error,
                    Some(OptionsError::InvalidPattern { flag: "deny", .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn deny_wins_then_allow_then_read_only() {
        let allow = vec!["sfmc_*_campaign*".to_owned()];
        let deny = vec!["sfmc_delete_*".to_owned()];
        let filter = ToolFilter::new(true, &allow, &deny).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(filter.check("sfmc_get_campaigns", true), Ok(()));
        assert_eq!(
            filter.check("sfmc_create_campaign", false),
            Err(Hidden::ReadOnly)
        );
        assert_eq!(
            filter.check("sfmc_delete_campaign", false),
            Err(Hidden::Denied("sfmc_delete_*".into()))
        );
        assert_eq!(
            filter.check("sfmc_get_assets", true),
            Err(Hidden::NotAllowed)
        );
        let unmatched = ToolFilter::new(false, &["sfmc_nothing_*".to_owned()], &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            unmatched.check_patterns_match(["sfmc_get_campaigns"].into_iter()),
            Err(OptionsError::MatchesNothing { flag: "allow", .. })
        ));
    }
}
