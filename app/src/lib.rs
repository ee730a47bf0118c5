//! Nachweis: the web application (Leptos), compiled twice: with `ssr` into
//! the server, with `hydrate` to WebAssembly for the browser.
//!
//! Islands: every page is rendered on the server and works as plain HTML
//! (forms post, the server redirects back). Only the parts that need the
//! browser are `#[island]`s, hydrated on their own: the upload with its
//! progress bar, the import's mapping preview and the new invitation's
//! one-time link. The WebAssembly holds
//! those and the reactive runtime, not the pages.
//!
//! Four layers, arrows pointing down only (the order is `layers::MODULES`,
//! checked by a test; the README has the table):
//! kernel, platform, features, aggregators. One folder per concept, each
//! with its DTOs, its server functions (thin: authenticate, authorise, call
//! the service) and its pages; behind `ssr`, its service with the queries
//! and rules and its plain routes (`http.rs`, merged by the server).

// The view types of the larger pages nest deeper than rustc's default of
// 128 when components are not type-erased (`cargo leptos build --release`
// without `--cfg erase_components`): without this the release build fails
// with "queries overflow the depth limit".
#![recursion_limit = "256"]
// A server function's browser stub takes the same arguments as the
// function (form fields); the lint is allowed on the functions themselves,
// which `#[server]` does not pass on to the stub it writes.
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

// Kernel: domain types, errors, formatting, entities.
/// Domain newtypes that parse input once (shared with the browser).
pub mod domain;
#[cfg(feature = "ssr")]
pub mod entities;
/// The one error type that crosses the wire.
pub mod error;
/// Dates, times and URLs as Nachweis writes and reads them.
pub mod format;
/// Typed ids: a measure's id is not a category's.
pub mod ids;

// Platform: the machinery features share.
/// The audit log: hash-chained, one row per change.
pub mod audit;
/// Sessions, login, roles and the guards server functions start with.
pub mod auth;
/// Where evidence bytes live: content-addressed, staged, then stored.
#[cfg(feature = "ssr")]
pub mod blobs;
/// The Content-Security-Policy of pages and other responses.
#[cfg(feature = "ssr")]
pub mod csp;
/// What every plain axum route shares: errors, downloads, form answers.
#[cfg(feature = "ssr")]
pub mod http;
/// Mail in German and English, the outbox and its admin view.
pub mod mail;
/// Client addresses and which addresses the server may call.
#[cfg(feature = "ssr")]
pub mod net;
/// The PDF engine: Typst rendering, PAdES signatures, signing keys.
#[cfg(feature = "ssr")]
pub mod pdf;
/// What every request handler and server function can reach.
#[cfg(feature = "ssr")]
pub mod state;
/// The small view pieces every page uses.
pub mod ui;

// Features, one folder each; which may use which: `layers::MODULES`.
/// The AVV (Art. 28 GDPR): the processor's contract text, versioned.
pub mod avv;
/// Customers (controllers), their contacts, and their login links.
pub mod customers;
/// Evidence files that prove measures.
pub mod evidence;
/// Subprocessor notices to customers and their objections.
pub mod notices;
/// Organisations, members, invitations, the profile.
pub mod orgs;
/// Confidentiality pledges: texts, signatures with PDF copies, the DPO's overview.
pub mod pledges;
/// The audit log's page (Protokoll).
pub mod protocol;
/// Annual effectiveness reviews (Art. 32(1)(d) GDPR).
pub mod reviews;
/// Single sign-on with OpenID Connect.
pub mod sso;
/// Subprocessors, their attestations, and the measures that rely on them.
pub mod subprocessors;
/// The TOM catalogue.
pub mod toms;
/// Privacy training: courses with quiz, attempts, certificates, the overview.
pub mod training;

// Aggregators: read many features, own none.
/// The TOM annex (Art. 32 DSGVO) as data, rendered to PDF on the server.
pub mod annex;
/// The AVV as one document per customer: the draft today.
pub mod contract;
/// The frame of every page, the login page and the start page.
pub mod home;
/// A measure's page with its evidence, subprocessors and reviews.
pub mod measure;
/// The customer portal: current annex, earlier versions, subprocessors.
pub mod portal;
pub mod register;
/// What needs attention: dashboard lists and the daily digest.
pub mod reminders;

/// The layer table and the check that keeps the module graph pointing down.
#[cfg(test)]
mod layers;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="de">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/nachweis.css" />
        <Title formatter=|t: String| if t.is_empty() { "Nachweis".to_owned() } else { format!("{t} · Nachweis") } />
        <Router>
            <home::Layout>
                <Routes fallback=ui::NotFound>
                    <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=home::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/massnahmen") view=measure::CataloguePage ssr=SsrMode::Async />
                    <Route path=path!("/massnahmen/neu") view=toms::NewMeasurePage ssr=SsrMode::Async />
                    <Route path=path!("/massnahmen/import") view=toms::ImportPage ssr=SsrMode::Async />
                    <Route path=path!("/massnahmen/:id") view=measure::MeasurePage ssr=SsrMode::Async />
                    <Route path=path!("/organisation") view=orgs::ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/mitglieder") view=orgs::MembersPage ssr=SsrMode::Async />
                    <Route path=path!("/einladung/:token") view=orgs::InvitationPage ssr=SsrMode::Async />
                    <Route path=path!("/protokoll") view=protocol::AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/postausgang") view=mail::OutboxPage ssr=SsrMode::Async />
                    <Route path=path!("/portal") view=portal::PortalPage ssr=SsrMode::Async />
                    <Route path=path!("/kunden") view=customers::CustomersPage ssr=SsrMode::Async />
                    <Route path=path!("/anmeldedienste") view=sso::ProvidersPage ssr=SsrMode::Async />
                    <Route path=path!("/unterauftragsverarbeiter") view=|| view! { <subprocessors::SubprocessorsPage><notices::NoticesPanel /></subprocessors::SubprocessorsPage> } ssr=SsrMode::Async />
                    <Route path=path!("/anlage") view=annex::AnnexPage ssr=SsrMode::Async />
                    <Route path=path!("/verpflichtung") view=pledges::PledgePage ssr=SsrMode::Async />
                    <Route path=path!("/verpflichtungen") view=pledges::PledgeAdminPage ssr=SsrMode::Async />
                    <Route path=path!("/avv") view=avv::AvvPage ssr=SsrMode::Async />
                    <Route path=path!("/avv-abschluss") view=contract::ContractsPage ssr=SsrMode::Async />
                    <Route path=path!("/schulungen") view=training::TrainingPage ssr=SsrMode::Async />
                    <Route path=path!("/schulungen/durchgang/:id") view=training::AttemptPage ssr=SsrMode::Async />
                    <Route path=path!("/schulungen/kurse") view=training::TrainingAdminPage ssr=SsrMode::Async />
                    <Route path=path!("/schulungen/uebersicht") view=training::TrainingOverviewPage ssr=SsrMode::Async />
                    <Route path=path!("/pruefungen") view=reviews::ReviewsPage ssr=SsrMode::Async />
                    <Route path=path!("/pruefungen/:id") view=reviews::CyclePage ssr=SsrMode::Async />
                    <Route path=path!("/pruefungen/bewertung/:id") view=reviews::ItemPage ssr=SsrMode::Async />
                </Routes>
            </home::Layout>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    refuse_blank_text_areas();
    leptos::mount::hydrate_islands();
    // A marker for browser tests (and curious admins): the page is
    // interactive now. Leptos' loader hydrates the islands right after this
    // function returns, awaiting only microtasks; a task queued now runs
    // after all of them.
    leptos::prelude::set_timeout(
        || {
            if let Some(body) = leptos::prelude::document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

/// `required` lets a text area through with nothing but spaces in it (an
/// input refuses that through `pattern`, which text areas lack). The server
/// refuses it; with JavaScript the browser does too, before sending: a
/// capturing listener checks every form's required text areas and stops
/// the submission (islands' own handlers included) with the browser's own
/// message bubble. Typing clears the complaint.
#[cfg(feature = "hydrate")]
fn refuse_blank_text_areas() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let document = leptos::prelude::document();
    let on_submit = Closure::<dyn Fn(web_sys::SubmitEvent)>::new(|ev: web_sys::SubmitEvent| {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        if form.no_validate() {
            return;
        }
        let Ok(areas) = form.query_selector_all("textarea[required]") else {
            return;
        };
        for i in 0..areas.length() {
            let Some(area) = areas
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            else {
                continue;
            };
            if area.value().trim().is_empty() {
                area.set_custom_validity("Bitte geben Sie einen Text ein, nicht nur Leerzeichen.");
                area.report_validity();
                ev.prevent_default();
                ev.stop_immediate_propagation();
                return;
            }
        }
    });
    let on_input = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        if let Some(area) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        {
            area.set_custom_validity("");
        }
    });
    let _ = document.add_event_listener_with_callback_and_bool(
        "submit",
        on_submit.as_ref().unchecked_ref(),
        true,
    );
    let _ = document.add_event_listener_with_callback_and_bool(
        "input",
        on_input.as_ref().unchecked_ref(),
        true,
    );
    // The listeners live as long as the page.
    on_submit.forget();
    on_input.forget();
}
