//! The operation catalog: every connector operation written once, as data — its name, family,
//! method, path template, parameters, effects, paging style and scope.
//!
//! Everything else derives from it: input validation and request building
//! ([`Operation::build_request`]), JSON Schemas ([`Operation::json_schema`]), the generated
//! `docs/operations.md` ([`markdown`]), the typed methods of [`crate::ops`], `sfmc call`, and
//! later the gateway's routes and the MCP tools. The entries themselves live with their family
//! in [`crate::ops`]; this module owns the types and the lookups.

mod build;
mod docs;
mod error;
mod schema;

pub use build::{OperationRequest, encode_segment};
pub use docs::markdown;
pub use error::{ValidationError, json_type};

/// An HTTP method of an operation (a `const`-friendly mirror of [`reqwest::Method`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// Every method, in this order.
    pub const ALL: [Self; 5] = [Self::Get, Self::Post, Self::Put, Self::Patch, Self::Delete];

    /// The method for `reqwest`.
    pub fn to_method(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Patch => reqwest::Method::PATCH,
            Self::Delete => reqwest::Method::DELETE,
        }
    }

    /// `GET`, `POST`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// A method name that is not one of [`HttpMethod::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("method {0:?} is not one of GET, POST, PUT, PATCH, DELETE")]
pub struct UnknownMethod(pub String);

impl std::str::FromStr for HttpMethod {
    type Err = UnknownMethod;

    /// `GET`, `post`, … (any case).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|method| method.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownMethod(text.to_owned()))
    }
}

/// Where a parameter goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Replaces `{name}` in the path template (percent-encoded as one segment).
    Path,
    /// A query-string pair (form-encoded), under the parameter's wire name.
    Query,
    /// A body field at the wire name; dots nest (`content.customerKey`).
    Body,
    /// The whole body, unchanged; named body parameters are set into it.
    Payload,
}

impl Location {
    /// `path`, `query`, `body`, `payload`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Body => "body",
            Self::Payload => "payload",
        }
    }
}

/// The JSON type a parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A JSON string.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// An identifier: a string or a whole number.
    Id,
    /// An object or an array (a `payload` whose shape the operation defines).
    Json,
}

impl ParamType {
    /// The name used in messages and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Object => "object",
            Self::Array => "array",
            Self::Id => "string or integer",
            Self::Json => "object or array",
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The connector's name for it (`campaignId`, `pageSize`, `content.customerKey`).
    pub name: &'static str,
    /// Its name on the wire when different (`$pagesize`, `Name`); empty when the same.
    pub wire: &'static str,
    /// Where it goes.
    pub location: Location,
    /// What JSON it accepts.
    pub ty: ParamType,
    /// Whether the operation needs it.
    pub required: bool,
    /// The longest string accepted (0: no limit).
    pub max_len: usize,
    /// The value used when it is not given, as JSON text.
    pub default: Option<&'static str>,
    /// What it is.
    pub description: &'static str,
}

impl Param {
    const fn new(
        name: &'static str,
        location: Location,
        ty: ParamType,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            wire: "",
            location,
            ty,
            required: false,
            max_len: 0,
            default: None,
            description,
        }
    }

    /// A path parameter (always required).
    pub const fn path(name: &'static str, ty: ParamType, description: &'static str) -> Self {
        Self::new(name, Location::Path, ty, description).required()
    }

    /// A query parameter sent as `wire`.
    pub const fn query(
        name: &'static str,
        wire: &'static str,
        ty: ParamType,
        description: &'static str,
    ) -> Self {
        Self::new(name, Location::Query, ty, description).wire(wire)
    }

    /// A body field (dots nest).
    pub const fn body(name: &'static str, ty: ParamType, description: &'static str) -> Self {
        Self::new(name, Location::Body, ty, description)
    }

    /// The `payload` parameter: the whole body.
    pub const fn payload(ty: ParamType, description: &'static str) -> Self {
        Self::new("payload", Location::Payload, ty, description)
    }

    /// Marks it required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Sets its wire name.
    pub const fn wire(mut self, wire: &'static str) -> Self {
        self.wire = wire;
        self
    }

    /// Sets the longest string accepted.
    pub const fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Sets the default value (JSON text).
    pub const fn default(mut self, json: &'static str) -> Self {
        self.default = Some(json);
        self
    }

    /// The name on the wire (or the body path, dotted).
    pub fn wire_name(&self) -> &'static str {
        if self.wire.is_empty() {
            self.name
        } else {
            self.wire
        }
    }
}

/// How a list operation's replies are paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Not paged.
    None,
    /// `$page` (from 1) and `$pageSize`; reply `{count, page, pageSize, items}` with `count`
    /// the total.
    Page,
    /// `$page` and `$pageSize`; reply `{definitions, count, page, pageSize}` with `count` the
    /// number on this page (the last page has fewer than `pageSize`).
    Definitions,
    /// Reply `{links: {next}, items}`: follow `links.next` until it is absent.
    NextLink,
}

impl Paging {
    /// `none`, `page`, `definitions`, `next-link`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Page => "page",
            Self::Definitions => "definitions",
            Self::NextLink => "next-link",
        }
    }
}

/// One operation of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The connector's name (`getCampaigns`).
    pub name: &'static str,
    /// The REST family (`campaigns`).
    pub family: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template, relative to the REST instance URL (`/hub/v1/campaigns/{campaignId}`).
    pub path: &'static str,
    /// Its parameters.
    pub params: &'static [Param],
    /// It changes nothing.
    pub read_only: bool,
    /// Repeating it has the same effect as doing it once (so it may be retried after a
    /// transport error or a 5xx).
    pub idempotent: bool,
    /// It deletes or overwrites something.
    pub destructive: bool,
    /// How its replies are paged.
    pub paging: Paging,
    /// The installed-package scope it needs.
    pub scope: &'static str,
    /// What a success looks like.
    pub returns: &'static str,
}

impl Operation {
    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Every operation, in catalog order (by family, then as the connector lists them).
pub fn operations() -> &'static [&'static Operation] {
    &crate::ops::OPERATIONS
}

/// The operation called `name` (exact, case-sensitive as the connector spells it).
pub fn find(name: &str) -> Option<&'static Operation> {
    operations().iter().copied().find(|op| op.name == name)
}

/// The operation called `name`, or a [`ValidationError::UnknownOperation`] with a "did you
/// mean" (case-insensitive matches and near misses).
pub fn lookup(name: &str) -> Result<&'static Operation, ValidationError> {
    find(name).ok_or_else(|| ValidationError::UnknownOperation {
        name: name.to_owned(),
        suggestion: closest(name, operations().iter().map(|op| op.name)),
    })
}

/// The candidate closest to `given`, if any is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = given.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
