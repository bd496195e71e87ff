//! `docs/operations.md`, generated from the catalog by [`markdown`]; a test checks the
//! checked-in file against it (`SFMC_BLESS=1 cargo test -p sfmc-client --test operations_doc`
//! rewrites it).

use std::fmt::Write;

use super::{Operation, Param, operations};

/// The operations reference as Markdown.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "# Operations\n\n\
         <!-- Generated from the catalog in crates/sfmc-client; do not edit. Regenerate with\n     \
         SFMC_BLESS=1 cargo test -p sfmc-client --test operations_doc -->\n\n\
         The connector's operations, by family. Call one with\n\
         `sfmc call OPERATION '{\"param\":…}'` (or `@file.json`, or `-` for stdin); `--all` follows\n\
         pages; `sfmc call --list --json` prints a JSON Schema per operation. Parameters are a JSON\n\
         object keyed by the names below: dotted names nest into the body\n\
         (`content.customerKey` → `{\"content\":{\"customerKey\":…}}`), and `payload` is the whole body,\n\
         unchanged, with the named body parameters set into it (so fields not listed here can still\n\
         be sent). Paths are relative to the token's REST instance URL.\n\n",
    );
    let mut family = "";
    for op in operations() {
        if op.family != family {
            family = op.family;
            let _ = writeln!(out, "## {family}\n");
        }
        operation_section(&mut out, op);
    }
    out
}

fn operation_section(out: &mut String, op: &Operation) {
    let _ = writeln!(out, "### `{}`\n", op.name);
    let _ = writeln!(out, "{}\n", op.summary);
    let _ = writeln!(out, "- Request: `{} {}`", op.method.as_str(), op.path);
    let _ = writeln!(out, "- Returns: {}", op.returns);
    let _ = writeln!(out, "- Scope: `{}`", op.scope);
    let _ = writeln!(out, "- Effect: {}", effect(op));
    let _ = writeln!(out, "- Paging: {}\n", op.paging.as_str());
    if op.params.is_empty() {
        out.push_str("No parameters.\n\n");
        return;
    }
    out.push_str("| parameter | in | type | required | description |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for param in op.params {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            param.name,
            location(param),
            param.ty.as_str(),
            if param.required { "yes" } else { "no" },
            description(param),
        );
    }
    out.push('\n');
}

fn effect(op: &Operation) -> &'static str {
    match (op.read_only, op.destructive, op.idempotent) {
        (true, _, _) => "read-only",
        (false, true, true) => "destructive, idempotent",
        (false, true, false) => "destructive",
        (false, false, true) => "writes, idempotent",
        (false, false, false) => "writes, not idempotent",
    }
}

fn location(param: &Param) -> String {
    if param.wire.is_empty() {
        param.location.as_str().to_owned()
    } else {
        format!("{} `{}`", param.location.as_str(), param.wire)
    }
}

fn description(param: &Param) -> String {
    let mut text = param.description.replace('|', "\\|");
    if param.max_len > 0 {
        let _ = write!(text, " At most {} characters.", param.max_len);
    }
    if let Some(default) = param.default {
        let _ = write!(text, " Default `{default}`.");
    }
    text
}
