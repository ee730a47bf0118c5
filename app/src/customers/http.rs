//! One-time login links in the browser: the page a mailed link opens
//! (fetching it uses nothing up) and the button's POST that signs in.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use crate::http::{Action, ResultPage, TO_LOGIN, signin_failed};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/anmeldelink/{token}", get(login_link_page))
        .route("/anmeldelink", post(login_link_redeem))
        .route("/kunden/{id}/angaben", post(save_particulars))
}

/// `POST /kunden/{id}/angaben` (admins): the particulars of the processing,
/// the texts under their names in [`super::PARTICULARS`] and a repeated
/// `sub` for each subprocessor the customer's services use. A plain form,
/// the same with and without JavaScript: back to the customer's card, with
/// the confirmation or the error.
async fn save_particulars(
    State(state): State<AppState>,
    session: Session,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    axum::Form(fields): axum::Form<crate::http::Fields>,
) -> Response {
    use crate::http::{Done, field_ids, form_answer, form_field};
    let Ok(id) = id.parse::<crate::ids::CustomerId>() else {
        return crate::error::AppError::NotFound("Der Kunde".into()).into_response();
    };
    let actor = match crate::http::actor_or_login(&state, &session, "/kunden").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let back = format!("/kunden?kunde={id}#kunde-{id}");
    let result = async {
        let text = |name: &str| form_field(&fields, name).to_owned();
        let input = super::Particulars {
            subject: text("subject"),
            purpose: text("purpose"),
            data_types: text("data_types"),
            data_subjects: text("data_subjects"),
            services: text("services"),
            instructors: text("instructors"),
            controller_dpo: text("controller_dpo"),
            breach_deadline: text("breach_deadline"),
            subprocessors: field_ids(&fields, "sub")?,
            chosen: true,
        };
        super::service::save_particulars(&state.db, state.now(), &actor, id, input).await
    }
    .await;
    let done = result.map(|()| Done {
        json: serde_json::json!({ "customer_id": id }),
        then: format!("/kunden?kunde={id}&gespeichert=1#kunde-{id}"),
    });
    form_answer(&headers, &back, done)
}

/// The page a one-time login link opens: says whether the link still works
/// and offers the button that uses it. Fetching this page uses nothing up.
async fn login_link_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match super::links::check(&state.db, state.now(), &token).await {
        Ok(Ok(())) => ResultPage {
            title: "Anmelden mit Ihrem Link",
            de: "Ein Klick meldet Sie am Kundenportal an. Der Link gilt danach nicht mehr.",
            en: "One click signs you in to the customer portal. The link cannot be used again afterwards.",
            action: Action::Post {
                action: "/anmeldelink".to_owned(),
                hidden: vec![("token", token.clone())],
                label: "Jetzt anmelden".to_owned(),
            },
            back: TO_LOGIN,
        }
        .respond(StatusCode::OK),
        Ok(Err(e)) => link_failure(e),
        Err(e) => signin_failed(e),
    }
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    #[serde(default)]
    token: String,
}

/// Uses a one-time login link and signs the session in.
async fn login_link_redeem(
    State(state): State<AppState>,
    session: Session,
    axum::Form(form): axum::Form<LinkForm>,
) -> Response {
    match super::links::redeem(&state.db, state.now(), &form.token).await {
        Ok(Ok((user_id, org_id))) => {
            if let Err(e) = crate::auth::service::start_session(
                &session,
                user_id,
                org_id,
                crate::auth::service::SignedInBy::Account,
            )
            .await
            {
                return signin_failed(e);
            }
            (StatusCode::SEE_OTHER, [(header::LOCATION, "/portal")]).into_response()
        }
        Ok(Err(e)) => link_failure(e),
        Err(e) => signin_failed(e),
    }
}

fn link_failure(e: super::links::LinkError) -> Response {
    use super::links::LinkError as L;
    let (title, de, en) = match e {
        L::Unknown => (
            "Anmeldelink ungültig",
            "Diesen Anmeldelink kennen wir nicht. Bitte prüfen Sie, ob er vollständig ist, oder fordern Sie auf der Anmeldeseite einen neuen an.",
            "We do not know this sign-in link. Check that it is complete, or ask for a new one on the sign-in page.",
        ),
        L::Used => (
            "Anmeldelink schon verwendet",
            "Dieser Anmeldelink wurde bereits verwendet; jeder Link gilt nur einmal. Fordern Sie auf der Anmeldeseite einen neuen an.",
            "This sign-in link has already been used; each link works once. Ask for a new one on the sign-in page.",
        ),
        L::Expired => (
            "Anmeldelink abgelaufen",
            "Dieser Anmeldelink ist abgelaufen (er gilt 30 Minuten). Fordern Sie auf der Anmeldeseite einen neuen an.",
            "This sign-in link has expired (links work for 30 minutes). Ask for a new one on the sign-in page.",
        ),
        L::NotACustomer => (
            "Bitte anders anmelden",
            "Diese Adresse gehört zu einem Konto, das sich mit Passwort oder Single Sign-on anmeldet.",
            "This address belongs to an account that signs in with a password or single sign-on.",
        ),
    };
    ResultPage::signin(title, de, en).respond(StatusCode::BAD_REQUEST)
}
