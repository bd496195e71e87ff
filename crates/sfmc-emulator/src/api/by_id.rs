//! What the families with numeric ids (assets, categories, campaigns) share: [`ById`], a
//! business unit's items in id order; [`Noun`], how a family names its items in errors (a bad
//! id, a missing item); and the read and delete handlers' common part ([`get`], [`remove`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::api::principal::Principal;
use crate::api::reply::{self, ApiError, Reply, VALIDATION, bad_request, not_found};
use crate::store::{BusinessUnit, lock};

/// A business unit's items of one family by numeric id.
#[derive(Default)]
pub(crate) struct ById {
    pub items: BTreeMap<u64, Value>,
}

/// How a family names its items in errors.
pub(crate) struct Noun {
    /// Capitalized, for "… with id N was not found." (`Asset`).
    pub name: &'static str,
    /// What a non-numeric id is: 400 "The asset id … is not a number." (`Some("asset")`), or,
    /// when `None`, 404 like an id that does not exist.
    pub invalid_id: Option<&'static str>,
}

impl Noun {
    /// The id in a path; an error per [`Noun::invalid_id`] when it is not a number.
    pub(crate) fn parse_id(&self, text: &str) -> Result<u64, ApiError> {
        text.parse().map_err(|_| match self.invalid_id {
            Some(noun) => bad_request(
                format!("The {noun} id {text:?} is not a number."),
                VALIDATION,
            ),
            None => not_found(format!("{} with id {text:?} was not found.", self.name)),
        })
    }

    /// 404 for an id with no item.
    pub(crate) fn missing(&self, id: u64) -> ApiError {
        not_found(format!("{} with id {id} was not found.", self.name))
    }
}

impl ById {
    /// The item with `id`, or 404.
    pub(crate) fn get(&self, noun: &Noun, id: u64) -> Result<&Value, ApiError> {
        self.items.get(&id).ok_or_else(|| noun.missing(id))
    }

    /// The item with `id` to change, or 404.
    pub(crate) fn get_mut(&mut self, noun: &Noun, id: u64) -> Result<&mut Value, ApiError> {
        self.items.get_mut(&id).ok_or_else(|| noun.missing(id))
    }

    /// Removes the item with `id`, or 404.
    pub(crate) fn remove(&mut self, noun: &Noun, id: u64) -> Result<Value, ApiError> {
        self.items.remove(&id).ok_or_else(|| noun.missing(id))
    }
}

/// Which of a business unit's stores a family uses.
pub(crate) type Store = fn(&BusinessUnit) -> &Mutex<ById>;

/// `GET …/{id}`: with one of `scopes`, the item as stored.
pub(crate) fn get(p: &Principal, scopes: &[&str], store: Store, noun: &Noun, id: &str) -> Reply {
    p.require(scopes)?;
    let id = noun.parse_id(id)?;
    let unit = p.unit();
    let items = lock(store(&unit));
    reply::ok(items.get(noun, id)?.clone())
}

/// `DELETE …/{id}`: with one of `scopes`, removes the item (the caller picks the answer).
pub(crate) fn remove(
    p: &Principal,
    scopes: &[&str],
    store: Store,
    noun: &Noun,
    id: &str,
) -> Result<(), ApiError> {
    p.require(scopes)?;
    let id = noun.parse_id(id)?;
    let unit = p.unit();
    lock(store(&unit)).remove(noun, id)?;
    Ok(())
}
