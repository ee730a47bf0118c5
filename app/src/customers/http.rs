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
