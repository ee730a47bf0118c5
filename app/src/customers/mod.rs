//! Customers (the controllers with an AVV) and their contact persons, who
//! are told by mail when a new version of the annex is published
//! (Art. 28(2), (3) GDPR).

mod page;
pub use page::CustomersPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ids::{ContactId, CustomerId};

/// The login links' pages in the browser.
#[cfg(feature = "ssr")]
pub mod http;
/// One-time login links for contact persons.
#[cfg(feature = "ssr")]
pub mod links;
#[cfg(feature = "ssr")]
pub mod service;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactView {
    pub id: ContactId,
    pub name: String,
    pub email: String,
    pub locale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerView {
    pub id: CustomerId,
    pub name: String,
    pub avv_reference: String,
    /// The day the data processing agreement was concluded, if known.
    pub avv_date: Option<chrono::NaiveDate>,
    pub contacts: Vec<ContactView>,
}

#[server(endpoint = "customers/list")]
pub async fn list_customers() -> Result<Vec<CustomerView>, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::list(&state.db, actor.org_id).await
}

#[server(endpoint = "customers/add")]
pub async fn add_customer(
    name: String,
    #[server(default)] avv_reference: String,
    #[server(default)] avv_date: String,
) -> Result<CustomerId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::add(
        &state.db,
        state.now(),
        &actor,
        &name,
        &avv_reference,
        &avv_date,
    )
    .await
}

#[server(endpoint = "customers/contact/add")]
pub async fn add_contact(
    customer_id: CustomerId,
    name: String,
    email: String,
    #[server(default)] locale: String,
) -> Result<ContactId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let email = crate::domain::EmailAddress::parse(&email)?;
    let locale = crate::mail::Locale::parse_lenient(&locale);
    service::add_contact(
        &state.db,
        state.now(),
        &actor,
        customer_id,
        &name,
        &email,
        locale,
    )
    .await
}

#[server(endpoint = "customers/contact/remove")]
pub async fn remove_contact(id: ContactId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::remove_contact(&state.db, state.now(), &actor, id).await
}

/// Asks for a one-time login link by mail. The answer is the same whether
/// or not the address is a registered customer contact.
#[server(endpoint = "auth/login-link")]
pub async fn request_login_link(email: String) -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    links::request(&state.db, state.now(), &state.public_url, &email).await?;
    leptos_axum::redirect("/login?anmeldelink=gesendet");
    Ok(())
}
