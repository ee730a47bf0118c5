//! The browser side of single sign-on: `/sso` (which provider serves my
//! e-mail domain?), `/sso/{id}/start` (off to the provider),
//! `/sso/callback` (back again) and linking a provider to an account.
//! Every failure is a page that says what happened and what to do, never a
//! 500.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tower_sessions::Session;

use super::service::{self, Confirmed, Pending, SsoError};
use crate::auth::service::{Actor, actor_for_session};
use crate::format::query_value;
use crate::http::{Action, ResultPage, TO_LOGIN, actor_or_login, signin_failed as internal};
use crate::ids::ProviderId;
use crate::net::Client;
use crate::state::AppState;

/// Single sign-on's routes. `confirmations` finish the acts that features
/// above this one have people confirm at their provider.
pub fn routes(confirmations: Confirmations) -> Router<AppState> {
    Router::new()
        .route("/sso", get(discover))
        .route("/sso/callback", get(callback))
        .route("/sso/{id}/start", get(start))
        .route("/sso/{id}/verknuepfen", get(link_page).post(link_start))
        .layer(axum::Extension(confirmations))
}

/// Finishes an act confirmed at the provider, for the person signed in
/// here (checked: the same person and organisation that started it, a fresh
/// login, their own identity). Answers the browser.
pub type Finish = fn(AppState, Session, Actor, Confirmed, Client) -> BoxedResponse;

/// The answer of a [`Finish`].
pub type BoxedResponse = std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;

/// The finishers of confirmed acts, by the `kind` their feature passed to
/// [`service::begin_confirmation`]. The server registers them, so single
/// sign-on knows none of the features that use it.
#[derive(Clone, Default)]
pub struct Confirmations(std::sync::Arc<std::collections::BTreeMap<&'static str, Finish>>);

impl Confirmations {
    pub fn on(mut self, kind: &'static str, finish: Finish) -> Self {
        std::sync::Arc::make_mut(&mut self.0).insert(kind, finish);
        self
    }
}

/// Where the session keeps the sign-ins this browser has started.
const PENDING_KEY: &str = "nachweis.sso.pending";

#[derive(Debug, Deserialize)]
struct DiscoverQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: String,
}

/// Lists the providers that serve the domain of the address typed on the
/// login page. Links, not a redirect: the login form may only lead to this
/// site (CSP `form-action 'self'`).
async fn discover(State(state): State<AppState>, Query(q): Query<DiscoverQuery>) -> Response {
    let email = q.email.trim();
    let Some((_, domain)) = email
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.'))
    else {
        return ResultPage {
            title: "Bitte eine E-Mail-Adresse angeben",
            de: "Geben Sie Ihre geschäftliche E-Mail-Adresse ein, damit wir Ihren Anmeldedienst finden.",
            en: "Please enter your business e-mail address so that we can find your sign-in service.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::BAD_REQUEST);
    };
    let providers = match service::providers_for_domain(&state.db, domain).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    if providers.is_empty() {
        return ResultPage {
            title: "Kein Single Sign-on für diese Domain",
            de: &format!(
                "Für {domain} ist keine Anmeldung per Single Sign-on eingerichtet. Melden Sie sich mit Ihrem Passwort an, oder bitten Sie Ihren Ansprechpartner, Ihren Anmeldedienst einzurichten."
            ),
            en: &format!(
                "No single sign-on is set up for {domain}. Sign in with your password, or ask your contact to set up your sign-in service."
            ),
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::NOT_FOUND);
    }
    let links = providers
        .iter()
        .map(|(id, name)| {
            let mut href = format!("/sso/{id}/start?login_hint={}", query_value(email));
            if !q.next.is_empty() {
                href.push_str(&format!("&next={}", query_value(&q.next)));
            }
            (href, format!("Weiter mit {name}"))
        })
        .collect();
    ResultPage {
            title: "Anmeldedienst wählen",
            de: "Sie werden zur Anmeldeseite Ihres Unternehmens weitergeleitet und kehren danach hierher zurück.",
            en: "You will sign in at your company's sign-in page and then come back here.",
            action: Action::Links(links),
            back: TO_LOGIN,
        }
        .respond(StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
    login_hint: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    let Ok(id) = id.parse::<ProviderId>() else {
        return failure(SsoError::UnknownProvider);
    };
    // Started from this site only: another site could otherwise send a
    // browser through a provider it runs and back, signed in as the
    // attacker's account (login CSRF through single sign-on).
    if matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site" | "same-site")
    ) {
        return ResultPage {
            title: "Bitte auf der Anmeldeseite beginnen",
            de: "Die Anmeldung über einen Anmeldedienst beginnt auf der Anmeldeseite von Nachweis, nicht über einen Link einer anderen Website.",
            en: "Single sign-on starts on Nachweis's sign-in page, not from a link on another website.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::FORBIDDEN);
    }
    let (url, pending) =
        match service::begin(&state, id, q.next.as_deref(), q.login_hint.as_deref()).await {
            Ok(x) => x,
            Err(e) => return failure(e),
        };
    leave_for(&session, &state, pending, url).await
}

/// Remembers a started sign-in in the session (several tabs may have one
/// open) and sends the browser to the provider. Only for a link the person
/// followed (a GET): see [`leave_by_link`] for a form.
async fn leave_for(session: &Session, state: &AppState, pending: Pending, url: String) -> Response {
    if let Err(r) = remember_pending(session, state, pending).await {
        return r;
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response()
}

/// [`leave_for`] after a form post (confirming a pledge or a contract,
/// linking an identity): browsers apply a page's `form-action 'self'` to
/// the redirects that follow a form submission too, so a redirect to the
/// provider would be blocked. The answer is a page with the link to the
/// provider instead; following a link is no form submission.
pub async fn leave_by_link(
    session: &Session,
    state: &AppState,
    pending: Pending,
    url: String,
) -> Response {
    if let Err(r) = remember_pending(session, state, pending).await {
        return r;
    }
    ResultPage {
        title: "Weiter zu Ihrem Anmeldedienst",
        de: "Bestätigen Sie bei Ihrem Anmeldedienst, dass Sie es sind: Sie melden sich dort erneut an und kehren danach hierher zurück.",
        en: "Confirm at your sign-in service that it is you: you sign in there again and then come back here.",
        action: Action::Links(vec![(url, "Weiter zur Anmeldung".to_owned())]),
        back: ("/", "Abbrechen"),
    }
    .respond(StatusCode::OK)
}

async fn remember_pending(
    session: &Session,
    state: &AppState,
    pending: Pending,
) -> Result<(), Response> {
    let open = session
        .get::<Vec<Pending>>(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let open = service::remember(open, pending, state.now());
    session.insert(PENDING_KEY, open).await.map_err(internal)
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    axum::Extension(confirmations): axum::Extension<Confirmations>,
    session: Session,
    headers: HeaderMap,
    addr: Option<axum::Extension<crate::net::ClientAddr>>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let mut open = session
        .get::<Vec<Pending>>(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let pending = q
        .state
        .as_deref()
        .and_then(|s| service::take(&mut open, s, state.now()));
    // Forget it before anything else happens: a state works exactly once.
    if let Err(e) = session.insert(PENDING_KEY, &open).await {
        return internal(e);
    }
    let Some(pending) = pending else {
        return failure(SsoError::InvalidState);
    };
    if let Some(error) = q.error {
        let detail = q.error_description.unwrap_or_default();
        return failure(SsoError::ProviderSaid(
            format!("{error}: {detail}").chars().take(300).collect(),
        ));
    }
    let Some(code) = q.code else {
        return failure(SsoError::InvalidState);
    };
    match pending.purpose {
        service::Purpose::SignIn => {}
        service::Purpose::Link { .. } => {
            return finish_link(&state, &session, pending, &code).await;
        }
        service::Purpose::Confirm(ref intent) => {
            let Some(finish) = confirmations.0.get(intent.kind.as_str()).copied() else {
                return failure(SsoError::InvalidState);
            };
            let client = Client::new(addr.as_deref(), &headers);
            return confirm(state, session, pending, &code, finish, client).await;
        }
    }
    match service::finish(&state, pending, &code).await {
        Ok(signed_in) => {
            if let Err(e) = crate::auth::service::start_session(
                &session,
                signed_in.user_id,
                signed_in.org_id,
                crate::auth::service::SignedInBy::Provider {
                    org_id: signed_in.org_id,
                },
            )
            .await
            {
                return internal(e);
            }
            tracing::info!(
                user = %signed_in.user_id,
                org = %signed_in.org_id,
                role = signed_in.role.as_str(),
                "signed in with SSO"
            );
            (StatusCode::SEE_OTHER, [(header::LOCATION, signed_in.next)]).into_response()
        }
        Err(e) => failure(e),
    }
}

/// Back from the provider with a confirmation: checks it belongs to the
/// person signed in here, then lets the feature finish its act.
async fn confirm(
    state: AppState,
    session: Session,
    pending: Pending,
    code: &str,
    finish: Finish,
    client: Client,
) -> Response {
    let actor = match actor_for_session(&state, &session).await {
        Ok(a) => a,
        // The session ended while the person was away: nothing happens.
        Err(_) => return failure(SsoError::InvalidState),
    };
    match service::finish_confirmation(&state, &actor, pending, code).await {
        Ok(confirmed) => finish(state, session, actor, confirmed, client).await,
        Err(e) => failure(e),
    }
}

pub fn failure(e: SsoError) -> Response {
    let retry = "Bitte versuchen Sie es später erneut. Besteht das Problem fort, wenden Sie sich an Ihren Ansprechpartner.";
    match e {
        SsoError::UnknownProvider => ResultPage {
            title: "Anmeldedienst nicht gefunden",
            de: "Diesen Anmeldedienst gibt es nicht oder er ist abgeschaltet. Bitte prüfen Sie den Link.",
            en: "This sign-in service does not exist or has been switched off. Please check the link.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::NOT_FOUND),
        SsoError::InvalidState => ResultPage {
            title: "Anmeldung abgelaufen oder ungültig",
            de: "Diese Rückmeldung des Anmeldedienstes gehört zu keiner Anmeldung, die in diesem Browser begonnen wurde: sie ist unvollständig, wurde schon verwendet oder ist älter als zehn Minuten. Bitte melden Sie sich erneut an.",
            en: "This answer from the sign-in service does not belong to a sign-in started in this browser: it is incomplete, was already used, or is older than ten minutes. Please sign in again.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::BAD_REQUEST),
        SsoError::ProviderSaid(detail) => ResultPage {
            title: "Der Anmeldedienst hat die Anmeldung abgebrochen",
            de: &format!("Ihr Anmeldedienst hat die Anmeldung nicht bestätigt ({detail})."),
            en: "Your sign-in service did not confirm the sign-in.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::BAD_REQUEST),
        SsoError::ProviderUnavailable(detail) => ResultPage {
            title: "Der Anmeldedienst ist nicht erreichbar",
            de: &format!("Der Anmeldedienst antwortet nicht wie erwartet ({detail}). {retry}"),
            en: "The sign-in service cannot be reached or answers in an unexpected way. Please try again later.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::BAD_GATEWAY),
        SsoError::Rejected(detail) => ResultPage {
            title: "Anmeldung abgewiesen",
            de: &format!(
                "Die Antwort des Anmeldedienstes hat eine Sicherheitsprüfung nicht bestanden ({detail}). Bitte melden Sie sich erneut an."
            ),
            en: "The sign-in service's answer failed a security check. Please sign in again.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::UNAUTHORIZED),
        SsoError::Refused(detail) => ResultPage {
            title: "Kein Zugang",
            de: &format!(
                "Ihr Anmeldedienst hat Sie erkannt, Sie haben hier aber keinen Zugang ({detail}). Der Versuch wurde protokolliert. Wenn Sie Zugang brauchen, wenden Sie sich an Ihren Ansprechpartner."
            ),
            en: "Your sign-in service recognised you, but you have no access here. The attempt has been logged; ask your contact if you need access.",
            action: Action::None,
            back: TO_LOGIN,
        }
        .respond(StatusCode::FORBIDDEN),
        SsoError::LinkRequired { provider_id, email } => ResultPage {
            title: "Anmeldedienst noch nicht verknüpft",
            de: &format!(
                "Für {email} gibt es bereits ein Konto. Damit sich niemand über einen fremden Anmeldedienst Zugang zu einem Konto verschafft, verknüpfen Sie diesen Anmeldedienst einmal selbst: Melden Sie sich wie bisher an (Passwort oder Anmeldelink); danach bestätigen Sie die Verknüpfung."
            ),
            en: "An account with this address already exists. To link this sign-in service, sign in as before (password or sign-in link) and then confirm the link.",
            action: Action::Links(vec![(
                format!("/login?next=/sso/{provider_id}/verknuepfen"),
                "Anmelden und verknüpfen".to_owned(),
            )]),
            back: TO_LOGIN,
        }
        .respond(StatusCode::CONFLICT),
        SsoError::Internal(e) => internal(e),
    }
}

/// The provider id of a link route and the signed-in person (or the page
/// that sends them to log in first).
async fn linking(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<(ProviderId, Actor), Response> {
    let Ok(id) = id.parse::<ProviderId>() else {
        return Err(failure(SsoError::UnknownProvider));
    };
    let actor = actor_or_login(state, session, &format!("/sso/{id}/verknuepfen")).await?;
    Ok((id, actor))
}

/// `GET /sso/{id}/verknuepfen`: asks the signed-in person to confirm that
/// this provider's identity may sign in to their account from now on.
async fn link_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let (id, actor) = match linking(&state, &session, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = match service::link_target(&state, &actor, id).await {
        Ok(p) => p,
        Err(e) => return failure(e),
    };
    ResultPage {
            title: "Anmeldedienst verknüpfen",
            de: &format!(
            "Sie sind als {} angemeldet. Nach der Bestätigung melden Sie sich einmal bei „{}“ an; danach können Sie sich auch so bei Nachweis anmelden. Der Anmeldedienst muss dieselbe E-Mail-Adresse bestätigen.",
            actor.email, p.name
        ),
            en: "After confirming you sign in once at this service; from then on you can sign in to Nachweis with it. The service must confirm the same e-mail address.",
            action: Action::Post {
            action: format!("/sso/{id}/verknuepfen"),
            hidden: vec![],
            label: format!("Verknüpfen mit {}", p.name),
        },
            back: TO_LOGIN,
        }
        .respond(StatusCode::OK)
}

/// `POST /sso/{id}/verknuepfen`: off to the provider for a fresh login.
async fn link_start(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let (id, actor) = match linking(&state, &session, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match service::begin_link(&state, &actor, id).await {
        Ok((url, pending)) => leave_by_link(&session, &state, pending, url).await,
        Err(e) => failure(e),
    }
}

/// Back from the provider with the identity to link to the signed-in person.
async fn finish_link(
    state: &AppState,
    session: &Session,
    pending: Pending,
    code: &str,
) -> Response {
    let actor = match actor_for_session(state, session).await {
        Ok(a) => a,
        Err(_) => return failure(SsoError::InvalidState),
    };
    match service::finish_link(state, &actor, pending, code).await {
        Ok(name) => {
            tracing::info!(user = %actor.user_id, "identity linked");
            ResultPage {
                title: "Anmeldedienst verknüpft",
                de: &format!("Sie können sich ab jetzt auch über „{name}“ anmelden."),
                en: "From now on you can also sign in with this service.",
                action: Action::Links(vec![("/".to_owned(), "Weiter".to_owned())]),
                back: TO_LOGIN,
            }
            .respond(StatusCode::OK)
        }
        Err(e) => failure(e),
    }
}
