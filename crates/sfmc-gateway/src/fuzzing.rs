//! Entry points for the fuzz targets under `fuzz/fuzz_targets/` that reach private parsers of
//! outside input: the proxy's path check (`proxy_path`). Hidden from the documentation; not an
//! API to build on.

/// Why the proxy refuses `path` (what follows `/connections/{name}/rest/`, still
/// percent-encoded), or `Ok` when it forwards it to the REST instance.
pub fn proxy_path(path: &str) -> Result<(), &'static str> {
    crate::proxy_path::check(path)
}
