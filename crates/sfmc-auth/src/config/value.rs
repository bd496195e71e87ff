//! Values of the config file that come from elsewhere: `${VAR}` (an environment variable,
//! anywhere in a string, `$${` for a literal `${`) and `file:/path` (a whole value read from a
//! file, trimmed). Resolved when the file is loaded, so a missing variable or file fails at start.

use std::path::Path;

/// How many bytes a `file:` value may have.
const MAX_FILE_VALUE: u64 = 64 * 1024;

/// Where a value came from, so that a literal secret in a shared file can be warned about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Written in the file itself.
    Literal,
    /// From at least one `${VAR}`.
    Environment,
    /// From `file:/path`.
    File,
}

/// Resolves `raw` with the environment given by `env`.
pub fn resolve(
    raw: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Source), String> {
    if let Some(path) = raw.strip_prefix("file:") {
        return read_file(Path::new(path.trim())).map(|v| (v, Source::File));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    let mut source = Source::Literal;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| "an unclosed \"${\" (write \"$${\" for a literal one)".to_owned())?;
            let name = &after[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                // The text is not echoed: it may be part of a literal secret.
                return Err(format!(
                    "the \"${{…}}\" at character {} does not hold an environment variable name (letters, digits, _; write \"$${{\" for a literal \"${{\")",
                    raw.len() - tail.len() + 1
                ));
            }
            let value = env(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            source = Source::Environment;
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok((out, source))
}

fn read_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    if !path.is_absolute() {
        return Err(format!("file:{} is not an absolute path", path.display()));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("file:{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_VALUE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("file:{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_VALUE {
        return Err(format!(
            "file:{} is larger than {MAX_FILE_VALUE} bytes",
            path.display()
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("file:{} is not UTF-8 text", path.display()))?;
    let value = text.trim();
    if value.is_empty() {
        return Err(format!("file:{} is empty", path.display()));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_variables_anywhere() {
        assert_eq!(
            resolve("x-${A}-${A}", &env),
            Ok(("x-alpha-alpha".into(), Source::Environment))
        );
        assert_eq!(
            resolve("plain $5", &env),
            Ok(("plain $5".into(), Source::Literal))
        );
        assert_eq!(resolve("$${A}", &env), Ok(("${A}".into(), Source::Literal)));
    }

    #[test]
    fn names_what_is_missing_or_malformed() {
        assert_eq!(
            resolve("${NOPE}", &env).unwrap_err(),
            "environment variable NOPE is not set"
        );
        assert_eq!(
            resolve("${EMPTY}", &env).unwrap_err(),
            "environment variable EMPTY is not set"
        );
        assert!(resolve("${A", &env).unwrap_err().contains("unclosed"));
        let malformed = resolve("s3cr${e t}", &env).unwrap_err();
        assert!(malformed.contains("at character 5"), "{malformed}");
        assert!(!malformed.contains("e t"), "{malformed}");
    }

    #[test]
    fn reads_trimmed_files() {
        let dir = std::env::temp_dir().join(format!("sfmc-value-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "  s3cret\n").unwrap();
        let raw = format!("file:{}", path.display());
        assert_eq!(resolve(&raw, &env), Ok(("s3cret".into(), Source::File)));
        std::fs::write(&path, "\n").unwrap();
        assert!(resolve(&raw, &env).unwrap_err().ends_with("is empty"));
        assert!(
            resolve("file:relative", &env)
                .unwrap_err()
                .contains("absolute")
        );
        assert!(resolve("file:/nonexistent/x", &env).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
