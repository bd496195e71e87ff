//! [`McpServer`]: the MCP server over [`Connections`] — `initialize` (tools only), `tools/list`
//! (the offered tools in catalog order), `tools/call` (a tool error for everything the tool can
//! report; a protocol error only for a tool that is not offered, saying why when the policy hid
//! it). Cheap to clone: one per HTTP request shares everything.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use sfmc_client::Connections;

use crate::args::Args;
use crate::filter::ToolFilter;
use crate::options::{MAX_RESULT_BUDGET, MIN_RESULT_BUDGET, McpOptions, OptionsError};
use crate::tools::{self, Serving, ToolSet};

/// The MCP server.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

struct Inner {
    serving: Serving,
    tools: ToolSet,
    instructions: String,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("tools", &self.inner.tools.offered().len())
            .field("read_only", &self.inner.serving.read_only)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// A server over `connections`, offering the tools `options` allow. Refuses an invalid
    /// pattern, a pattern that matches no tool, and a budget out of range.
    pub fn new(connections: Connections, options: McpOptions) -> Result<Self, OptionsError> {
        if !(MIN_RESULT_BUDGET..=MAX_RESULT_BUDGET).contains(&options.result_budget) {
            return Err(OptionsError::ResultBudget {
                given: options.result_budget,
            });
        }
        let filter = ToolFilter::new(options.read_only, &options.allow, &options.deny)?;
        let names: Vec<String> = connections.summaries().map(|s| s.name.clone()).collect();
        let serving = Serving {
            default_connection: names.first().cloned(),
            connection_names: (names.len() > 1).then(|| names.clone()),
            connections,
            budget: options.result_budget,
            read_only: options.read_only,
        };
        let candidates = ToolSet::candidates(&serving);
        filter.check_patterns_match(candidates.iter().map(|c| c.tool.name.as_ref()))?;
        let tools = ToolSet::new(candidates, &filter);
        let instructions = instructions(&serving, &names);
        Ok(Self {
            inner: Arc::new(Inner {
                serving,
                tools,
                instructions,
            }),
        })
    }

    /// The offered tools, in order.
    pub fn tools(&self) -> &[Tool] {
        self.inner.tools.offered()
    }
}

fn instructions(serving: &Serving, names: &[String]) -> String {
    let mut text = String::from(
        "Salesforce Marketing Cloud through sfmc: one tool per connector operation (sfmc_get_campaigns, sfmc_create_campaign, …), sfmc_rest_request for any other REST path, and data extension row tools. Tokens are handled by the server; pass account_id to act in another business unit.",
    );
    if names.len() > 1 {
        text.push_str(&format!(
            " Connections: {}; pass connection to pick one (default {}).",
            names.join(", "),
            names[0]
        ));
    }
    if serving.read_only {
        text.push_str(" This server is read-only: it offers only tools that change nothing.");
    }
    text.push_str(&format!(
        " Results larger than {} bytes are cut; the note in `truncated` says which page arguments continue.",
        serving.budget
    ));
    text
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("sfmc", env!("CARGO_PKG_VERSION"))
                    .with_title("Salesforce Marketing Cloud (sfmc)"),
            )
            .with_instructions(self.inner.instructions.clone())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.inner.tools.offered().to_vec(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let kind = match self.inner.tools.kind(&request.name) {
            Ok(kind) => kind,
            Err(hidden) => {
                let name: String = request.name.chars().take(100).collect();
                let message = match hidden {
                    Some(hidden) => format!("tool {name:?} is not offered: {}", hidden.reason()),
                    None => format!("unknown tool {name:?}; tools/list lists them"),
                };
                return Err(ErrorData::invalid_params(message, None));
            }
        };
        let args = Args::new(request.arguments);
        Ok(tools::call(kind, &self.inner.serving, args).await.into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.tools.tool(name).cloned()
    }
}
