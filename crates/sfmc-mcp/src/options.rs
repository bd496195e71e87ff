//! [`McpOptions`]: what a server offers (read-only, `--allow`/`--deny` patterns) and how much
//! of a result it returns (the budget); [`OptionsError`] says which option is wrong.

/// The default result budget: 32 KB of JSON text per tool result.
pub const DEFAULT_RESULT_BUDGET: usize = 32 * 1024;

/// The smallest result budget accepted (a cut result needs room for its note).
pub const MIN_RESULT_BUDGET: usize = 1024;

/// The largest result budget accepted.
pub const MAX_RESULT_BUDGET: usize = 16 * 1024 * 1024;

/// How a server is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpOptions {
    /// Offer only tools that change nothing (and `sfmc_rest_request` for GET only).
    pub read_only: bool,
    /// Glob patterns (`*`, `?`) on tool names: when any is given, only matching tools are
    /// offered.
    pub allow: Vec<String>,
    /// Glob patterns on tool names: matching tools are never offered (deny wins over allow).
    pub deny: Vec<String>,
    /// The most bytes of JSON text a tool result holds; larger results are cut with a note on
    /// how to get the rest.
    pub result_budget: usize,
}

impl Default for McpOptions {
    fn default() -> Self {
        Self {
            read_only: false,
            allow: Vec::new(),
            deny: Vec::new(),
            result_budget: DEFAULT_RESULT_BUDGET,
        }
    }
}

impl McpOptions {
    /// Read-only, everything else as the defaults: what `sfmc mcp --read-only` serves.
    pub fn read_only() -> Self {
        Self {
            read_only: true,
            ..Self::default()
        }
    }
}

/// An option that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A pattern with a character no tool name has.
    #[error(
        "--{flag} {pattern:?}: {reason}; a pattern is a tool name with * (any run) and ? (any one character), e.g. sfmc_get_*"
    )]
    InvalidPattern {
        /// `allow` or `deny`.
        flag: &'static str,
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A pattern that matches no tool (most likely a typo).
    #[error("--{flag} {pattern:?} matches no tool; tools are named like sfmc_get_campaigns")]
    MatchesNothing {
        /// `allow` or `deny`.
        flag: &'static str,
        /// The pattern.
        pattern: String,
    },
    /// A result budget out of range.
    #[error(
        "--result-budget {given}: must be from {MIN_RESULT_BUDGET} to {MAX_RESULT_BUDGET} bytes"
    )]
    ResultBudget {
        /// The budget given.
        given: usize,
    },
}
