//! The browser side of single sign-on: `/sso` (which provider serves my
//! e-mail domain?), `/sso/{id}/start` (off to the provider) and
//! `/sso/callback` (back again). Every failure is a page that says what
//! happened and what to do, never a 500.

use app::mail::templates::esc;
use app::sso::service::{self, Pending, SsoError};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

/// Where the session keeps the sign-ins this browser has started.
const PENDING_KEY: &str = "nachweis.sso.pending";

#[derive(Debug, Deserialize)]
pub struct DiscoverQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: String,
}

/// Lists the providers that serve the domain of the address typed on the
/// login page. Links, not a redirect: the login form may only lead to this
/// site (CSP `form-action 'self'`).
pub async fn discover(State(state): State<AppState>, Query(q): Query<DiscoverQuery>) -> Response {
    let email = q.email.trim();
    let Some((_, domain)) = email
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.'))
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "Bitte eine E-Mail-Adresse angeben",
            "Geben Sie Ihre geschäftliche E-Mail-Adresse ein, damit wir Ihren Anmeldedienst finden.",
            "Please enter your business e-mail address so that we can find your sign-in service.",
            Action::None,
        );
    };
    let providers = match service::providers_for_domain(&state.db, domain).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    if providers.is_empty() {
        return page(
            StatusCode::NOT_FOUND,
            "Kein Single Sign-on für diese Domain",
            &format!(
                "Für {domain} ist keine Anmeldung per Single Sign-on eingerichtet. Melden Sie sich mit Ihrem Passwort an, oder bitten Sie Ihren Ansprechpartner, Ihren Anmeldedienst einzurichten."
            ),
            &format!(
                "No single sign-on is set up for {domain}. Sign in with your password, or ask your contact to set up your sign-in service."
            ),
            Action::None,
        );
    }
    let links = providers
        .iter()
        .map(|(id, name)| {
            let mut href = format!("/sso/{id}/start?login_hint={}", encode(email));
            if !q.next.is_empty() {
                href.push_str(&format!("&next={}", encode(&q.next)));
            }
            (href, format!("Weiter mit {name}"))
        })
        .collect();
    page(
        StatusCode::OK,
        "Anmeldedienst wählen",
        "Sie werden zur Anmeldeseite Ihres Unternehmens weitergeleitet und kehren danach hierher zurück.",
        "You will sign in at your company's sign-in page and then come back here.",
        Action::Links(links),
    )
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
    login_hint: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    let Ok(id) = id.parse::<i32>() else {
        return failure(SsoError::UnknownProvider);
    };
    // Started from this site only: another site could otherwise send a
    // browser through a provider it runs and back, signed in as the
    // attacker's account (login CSRF through single sign-on).
    if matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site" | "same-site")
    ) {
        return page(
            StatusCode::FORBIDDEN,
            "Bitte auf der Anmeldeseite beginnen",
            "Die Anmeldung über einen Anmeldedienst beginnt auf der Anmeldeseite von Nachweis, nicht über einen Link einer anderen Website.",
            "Single sign-on starts on Nachweis's sign-in page, not from a link on another website.",
            Action::None,
        );
    }
    let (url, pending) =
        match service::begin(&state, id, q.next.as_deref(), q.login_hint.as_deref()).await {
            Ok(x) => x,
            Err(e) => return failure(e),
        };
    leave_for(&session, &state, pending, url).await
}

/// Remembers a started sign-in in the session (several tabs may have one
/// open) and sends the browser to the provider.
async fn leave_for(session: &Session, state: &AppState, pending: Pending, url: String) -> Response {
    let open = session
        .get::<Vec<Pending>>(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let open = service::remember(open, pending, state.now());
    if let Err(e) = session.insert(PENDING_KEY, open).await {
        return internal(e);
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    addr: Option<axum::Extension<app::net::ClientAddr>>,
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
        service::Purpose::ConfirmPledge(_) => {
            let client = app::pledges::service::Client::new(addr.as_deref(), &headers);
            return confirm_pledge(&state, &session, client, pending, &code).await;
        }
    }
    match service::finish(&state, pending, &code).await {
        Ok(signed_in) => {
            if let Err(e) = app::auth::service::start_session(
                &session,
                signed_in.user_id,
                signed_in.org_id,
                app::auth::service::SignedInBy::Provider {
                    org_id: signed_in.org_id,
                },
            )
            .await
            {
                return internal(e);
            }
            tracing::info!(
                user = signed_in.user_id,
                org = signed_in.org_id,
                role = signed_in.role.as_str(),
                "signed in with SSO"
            );
            (StatusCode::SEE_OTHER, [(header::LOCATION, signed_in.next)]).into_response()
        }
        Err(e) => failure(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PledgeForm {
    text_id: i32,
    #[serde(default)]
    text_sha256: String,
    #[serde(default)]
    typed_name: String,
    #[serde(default)]
    confirm: String,
    provider_id: i32,
}

/// `POST /verpflichtung/sso`: a person without a password signs the pledge
/// and confirms it with a fresh login at their identity provider. The
/// signing is checked first (a mistake goes back to the form), then kept
/// in the session while the browser is at the provider.
pub async fn pledge_start(
    State(state): State<AppState>,
    session: Session,
    axum::Form(form): axum::Form<PledgeForm>,
) -> Response {
    let actor = match crate::startup::actor_or_login(&state, &session, "/verpflichtung").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let signing = app::pledges::service::Signing {
        text_id: form.text_id,
        text_sha256: form.text_sha256,
        typed_name: form.typed_name,
        confirmed: !form.confirm.trim().is_empty(),
    };
    if let Err(e) = app::pledges::service::check(&state, &actor, &signing).await {
        return match e {
            app::error::AppError::Invalid { .. } => back_to_pledge(&e),
            e => crate::startup::error_response(e),
        };
    }
    let intent = service::PledgeIntent {
        user_id: actor.user_id,
        org_id: actor.org_id,
        text_id: signing.text_id,
        text_sha256: signing.text_sha256.trim().to_owned(),
        typed_name: signing.typed_name,
    };
    let (url, pending) =
        match service::begin_confirmation(&state, &actor, form.provider_id, intent).await {
            Ok(x) => x,
            Err(e) => return failure(e),
        };
    leave_for(&session, &state, pending, url).await
}

/// The pledge page again, with what was wrong with the signing.
fn back_to_pledge(e: &app::error::AppError) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            format!("/verpflichtung?fehler={}", encode(&e.to_string())),
        )],
    )
        .into_response()
}

/// Back from the provider with a confirmation: checks it belongs to the
/// person signed in here, then signs (every pledge check runs again).
async fn confirm_pledge(
    state: &AppState,
    session: &Session,
    client: app::pledges::service::Client,
    pending: Pending,
    code: &str,
) -> Response {
    let actor = match app::auth::service::actor_for_session(state, session).await {
        Ok(a) => a,
        // The session ended while the person was away: nothing is signed.
        Err(_) => return failure(SsoError::InvalidState),
    };
    let confirmed = match service::finish_confirmation(state, &actor, pending, code).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let signing = app::pledges::service::Signing {
        text_id: confirmed.intent.text_id,
        text_sha256: confirmed.intent.text_sha256,
        typed_name: confirmed.intent.typed_name,
        confirmed: true,
    };
    match app::pledges::service::sign(
        state,
        &actor,
        signing,
        app::pledges::service::Confirmation::FreshSso {
            provider_name: confirmed.provider_name,
        },
        client,
    )
    .await
    {
        Ok(id) => {
            tracing::info!(
                user = actor.user_id,
                signature = id,
                "pledge signed, confirmed by SSO"
            );
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, "/verpflichtung")],
            )
                .into_response()
        }
        Err(e @ app::error::AppError::Invalid { .. }) => back_to_pledge(&e),
        Err(e) => crate::startup::error_response(e),
    }
}

fn failure(e: SsoError) -> Response {
    let retry = "Bitte versuchen Sie es später erneut. Besteht das Problem fort, wenden Sie sich an Ihren Ansprechpartner.";
    match e {
        SsoError::UnknownProvider => page(
            StatusCode::NOT_FOUND,
            "Anmeldedienst nicht gefunden",
            "Diesen Anmeldedienst gibt es nicht oder er ist abgeschaltet. Bitte prüfen Sie den Link.",
            "This sign-in service does not exist or has been switched off. Please check the link.",
            Action::None,
        ),
        SsoError::InvalidState => page(
            StatusCode::BAD_REQUEST,
            "Anmeldung abgelaufen oder ungültig",
            "Diese Rückmeldung des Anmeldedienstes gehört zu keiner Anmeldung, die in diesem Browser begonnen wurde: sie ist unvollständig, wurde schon verwendet oder ist älter als zehn Minuten. Bitte melden Sie sich erneut an.",
            "This answer from the sign-in service does not belong to a sign-in started in this browser: it is incomplete, was already used, or is older than ten minutes. Please sign in again.",
            Action::None,
        ),
        SsoError::ProviderSaid(detail) => page(
            StatusCode::BAD_REQUEST,
            "Der Anmeldedienst hat die Anmeldung abgebrochen",
            &format!("Ihr Anmeldedienst hat die Anmeldung nicht bestätigt ({detail})."),
            "Your sign-in service did not confirm the sign-in.",
            Action::None,
        ),
        SsoError::ProviderUnavailable(detail) => page(
            StatusCode::BAD_GATEWAY,
            "Der Anmeldedienst ist nicht erreichbar",
            &format!("Der Anmeldedienst antwortet nicht wie erwartet ({detail}). {retry}"),
            "The sign-in service cannot be reached or answers in an unexpected way. Please try again later.",
            Action::None,
        ),
        SsoError::Rejected(detail) => page(
            StatusCode::UNAUTHORIZED,
            "Anmeldung abgewiesen",
            &format!(
                "Die Antwort des Anmeldedienstes hat eine Sicherheitsprüfung nicht bestanden ({detail}). Bitte melden Sie sich erneut an."
            ),
            "The sign-in service's answer failed a security check. Please sign in again.",
            Action::None,
        ),
        SsoError::Refused(detail) => page(
            StatusCode::FORBIDDEN,
            "Kein Zugang",
            &format!(
                "Ihr Anmeldedienst hat Sie erkannt, Sie haben hier aber keinen Zugang ({detail}). Der Versuch wurde protokolliert. Wenn Sie Zugang brauchen, wenden Sie sich an Ihren Ansprechpartner."
            ),
            "Your sign-in service recognised you, but you have no access here. The attempt has been logged; ask your contact if you need access.",
            Action::None,
        ),
        SsoError::LinkRequired { provider_id, email } => page(
            StatusCode::CONFLICT,
            "Anmeldedienst noch nicht verknüpft",
            &format!(
                "Für {email} gibt es bereits ein Konto. Damit sich niemand über einen fremden Anmeldedienst Zugang zu einem Konto verschafft, verknüpfen Sie diesen Anmeldedienst einmal selbst: Melden Sie sich wie bisher an (Passwort oder Anmeldelink); danach bestätigen Sie die Verknüpfung."
            ),
            "An account with this address already exists. To link this sign-in service, sign in as before (password or sign-in link) and then confirm the link.",
            Action::Links(vec![(
                format!("/login?next=/sso/{provider_id}/verknuepfen"),
                "Anmelden und verknüpfen".to_owned(),
            )]),
        ),
        SsoError::Internal(e) => internal(e),
    }
}

/// The provider id of a link route and the signed-in person (or the page
/// that sends them to log in first).
async fn linking(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<(i32, app::auth::service::Actor), Response> {
    let Ok(id) = id.parse::<i32>() else {
        return Err(failure(SsoError::UnknownProvider));
    };
    let actor =
        crate::startup::actor_or_login(state, session, &format!("/sso/{id}/verknuepfen")).await?;
    Ok((id, actor))
}

/// `GET /sso/{id}/verknuepfen`: asks the signed-in person to confirm that
/// this provider's identity may sign in to their account from now on.
pub async fn link_page(
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
    page(
        StatusCode::OK,
        "Anmeldedienst verknüpfen",
        &format!(
            "Sie sind als {} angemeldet. Nach der Bestätigung melden Sie sich einmal bei „{}“ an; danach können Sie sich auch so bei Nachweis anmelden. Der Anmeldedienst muss dieselbe E-Mail-Adresse bestätigen.",
            actor.email, p.name
        ),
        "After confirming you sign in once at this service; from then on you can sign in to Nachweis with it. The service must confirm the same e-mail address.",
        Action::Post {
            action: format!("/sso/{id}/verknuepfen"),
            hidden: vec![],
            label: format!("Verknüpfen mit {}", p.name),
        },
    )
}

/// `POST /sso/{id}/verknuepfen`: off to the provider for a fresh login.
pub async fn link_start(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let (id, actor) = match linking(&state, &session, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match service::begin_link(&state, &actor, id).await {
        Ok((url, pending)) => leave_for(&session, &state, pending, url).await,
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
    let actor = match app::auth::service::actor_for_session(state, session).await {
        Ok(a) => a,
        Err(_) => return failure(SsoError::InvalidState),
    };
    match service::finish_link(state, &actor, pending, code).await {
        Ok(name) => {
            tracing::info!(user = actor.user_id, "identity linked");
            page(
                StatusCode::OK,
                "Anmeldedienst verknüpft",
                &format!("Sie können sich ab jetzt auch über „{name}“ anmelden."),
                "From now on you can also sign in with this service.",
                Action::Links(vec![("/".to_owned(), "Weiter".to_owned())]),
            )
        }
        Err(e) => failure(e),
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    let id = uuid_like();
    tracing::error!(operation = %id, "single sign-on failed: {e}");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Interner Fehler",
        &format!(
            "Bei der Anmeldung ist ein interner Fehler aufgetreten (Vorgang {id}). Bitte versuchen Sie es erneut."
        ),
        "An internal error occurred during sign-in. Please try again.",
        Action::None,
    )
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// What a result page offers besides the way back to the login. Callers
/// hand over data, never markup: [`page`] escapes every value.
enum Action {
    None,
    /// Buttons that are links: (href, label).
    Links(Vec<(String, String)>),
    /// One button posting a form to `action` with hidden fields.
    Post {
        action: String,
        hidden: Vec<(&'static str, String)>,
        label: String,
    },
}

impl Action {
    fn html(&self) -> String {
        match self {
            Action::None => String::new(),
            Action::Links(links) => {
                let items: String = links
                    .iter()
                    .map(|(href, label)| {
                        format!(
                            "<li><a class=\"button primary\" href=\"{}\">{}</a></li>",
                            esc(href),
                            esc(label)
                        )
                    })
                    .collect();
                format!("<ul class=\"sso-choices\">{items}</ul>")
            }
            Action::Post {
                action,
                hidden,
                label,
            } => {
                let fields: String = hidden
                    .iter()
                    .map(|(name, value)| {
                        format!(
                            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                            esc(name),
                            esc(value)
                        )
                    })
                    .collect();
                format!(
                    "<form method=\"post\" action=\"{}\">{fields}<button type=\"submit\" class=\"button primary\">{}</button></form>",
                    esc(action),
                    esc(label)
                )
            }
        }
    }
}

/// A small self-contained page in German with an English line. Every
/// text is escaped here; the page's markup is fixed.
fn page(status: StatusCode, title: &str, de: &str, en: &str, action: Action) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} – Nachweis</title><link rel=\"stylesheet\" href=\"/pkg/nachweis.css\"></head><body><main class=\"page narrow sso-result\"><h1>{t}</h1><p>{de}</p><p class=\"muted\" lang=\"en\">{en}</p>{extra}<p><a class=\"button\" href=\"/login\">Zur Anmeldung</a></p></main></body></html>",
        t = esc(title),
        de = esc(de),
        en = esc(en),
        extra = action.html(),
    );
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page a one-time login link opens: says whether the link still works
/// and offers the button that uses it. Fetching this page uses nothing up.
pub async fn login_link_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match app::auth::links::check(&state.db, state.now(), &token).await {
        Ok(Ok(())) => page(
            StatusCode::OK,
            "Anmelden mit Ihrem Link",
            "Ein Klick meldet Sie am Kundenportal an. Der Link gilt danach nicht mehr.",
            "One click signs you in to the customer portal. The link cannot be used again afterwards.",
            Action::Post {
                action: "/anmeldelink".to_owned(),
                hidden: vec![("token", token.clone())],
                label: "Jetzt anmelden".to_owned(),
            },
        ),
        Ok(Err(e)) => link_failure(e),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    token: String,
}

/// Uses a one-time login link and signs the session in.
pub async fn login_link_redeem(
    State(state): State<AppState>,
    session: Session,
    axum::Form(form): axum::Form<LinkForm>,
) -> Response {
    match app::auth::links::redeem(&state.db, state.now(), &form.token).await {
        Ok(Ok((user_id, org_id))) => {
            if let Err(e) = app::auth::service::start_session(
                &session,
                user_id,
                org_id,
                app::auth::service::SignedInBy::Account,
            )
            .await
            {
                return internal(e);
            }
            (StatusCode::SEE_OTHER, [(header::LOCATION, "/portal")]).into_response()
        }
        Ok(Err(e)) => link_failure(e),
        Err(e) => internal(e),
    }
}

fn link_failure(e: app::auth::links::LinkError) -> Response {
    use app::auth::links::LinkError as L;
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
    page(StatusCode::BAD_REQUEST, title, de, en, Action::None)
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn actions_escape_every_value() {
        let evil = "\"><script>alert(1)</script>";
        let post = Action::Post {
            action: format!("/x{evil}"),
            hidden: vec![("token", evil.to_owned())],
            label: evil.to_owned(),
        }
        .html();
        let links = Action::Links(vec![(format!("/y{evil}"), evil.to_owned())]).html();
        for html in [post, links] {
            assert!(!html.contains("<script"), "{html}");
            assert!(html.contains("&quot;&gt;"), "{html}");
            assert!(html.contains("&lt;script&gt;"), "{html}");
        }
    }
}
