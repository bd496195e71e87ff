//! Who is calling a REST family: the [`Principal`] extractor checks the bearer token (401
//! `Not Authorized` otherwise) and carries its business unit and granted scopes;
//! [`Principal::require`] answers 403 errorcode 20002 when none of an endpoint's scopes was
//! granted. The scope each endpoint needs is listed in [`scope`].

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::api::reply::not_authorized;
use crate::api::reply::{ApiError, insufficient_privileges};
use crate::rest::authenticate;
use crate::state::AppState;
use crate::store::BusinessUnit;
use crate::tokens::ScopeSet;

/// Salesforce's scope names, grouped by what an endpoint needs: any one of a group suffices.
pub(crate) mod scope {
    /// Reading Content Builder assets and categories.
    pub const ASSETS_READ: &[&str] = &["saved_content_read", "documents_and_images_read"];
    /// Creating, changing and deleting assets and categories.
    pub const ASSETS_WRITE: &[&str] = &["saved_content_write", "documents_and_images_write"];
    /// Reading campaigns.
    pub const CAMPAIGN_READ: &[&str] = &["campaign_read"];
    /// Changing campaigns.
    pub const CAMPAIGN_WRITE: &[&str] = &["campaign_write"];
    /// Reading contacts and delete requests.
    pub const CONTACTS_READ: &[&str] = &["list_and_subscribers_read"];
    /// Creating, changing and deleting contacts.
    pub const CONTACTS_WRITE: &[&str] = &["list_and_subscribers_write"];
    /// Reading journeys.
    pub const JOURNEYS_READ: &[&str] = &["journeys_read"];
    /// Changing journeys.
    pub const JOURNEYS_WRITE: &[&str] = &["journeys_write"];
    /// Reading data extension rows and async request status.
    pub const DATA_EXTENSIONS_READ: &[&str] = &["data_extensions_read"];
    /// Writing data extension rows.
    pub const DATA_EXTENSIONS_WRITE: &[&str] = &["data_extensions_write"];
}

/// The caller behind a valid bearer token.
pub(crate) struct Principal {
    /// The emulator's state.
    pub shared: AppState,
    /// The token's business unit (MID).
    pub mid: String,
    /// The package's own MID (the enterprise).
    pub enterprise: String,
    package: usize,
    scopes: ScopeSet,
}

impl Principal {
    /// `Ok` when the token holds at least one of `any_of`; else 403 errorcode 20002.
    pub(crate) fn require(&self, any_of: &[&str]) -> Result<(), ApiError> {
        let entry = self.shared.packages.get(self.package);
        let granted = any_of.iter().any(|name| {
            entry
                .and_then(|e| e.scope_index.get(*name))
                .is_some_and(|&i| self.scopes.contains(i))
        });
        if granted {
            Ok(())
        } else {
            Err(insufficient_privileges())
        }
    }

    /// The caller's business unit.
    pub(crate) fn unit(&self) -> Arc<BusinessUnit> {
        self.shared.stores.unit(&self.mid)
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &AppState) -> Result<Self, ApiError> {
        let caller = authenticate(shared, &parts.headers).ok_or_else(not_authorized)?;
        Ok(Principal {
            mid: caller.mid.to_owned(),
            enterprise: caller.enterprise.to_owned(),
            package: caller.claims.package,
            scopes: caller.claims.scopes.clone(),
            shared: shared.clone(),
        })
    }
}
