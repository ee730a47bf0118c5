//! Single sign-on against a real OpenID Connect provider process
//! (`oidc-provider` from npm) on loopback: the whole flow over HTTP, and
//! every way it must fail cleanly: wrong or missing state, replayed or
//! tampered code, nonce mismatch, an ID token for another client, from
//! another issuer or expired, an unknown issuer, a provider that is down or
//! answers garbage, a domain that is not allowed. Refusals leave nothing
//! behind but an audit entry for the DPO.

use std::sync::Arc;

use app::domain::Role;
use app::entities::{identity_providers, memberships, user_identities, users};
use app::ids::{CustomerId, ProviderId};
use app::state::Clock;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::both;
use crate::helpers::*;
use crate::peers::{OidcProvider, free_port};

const CUSTOMER_DOMAIN: &str = "beispiel-kunde.example";

/// A location header resolved against the URL it came from.
fn location(res: &reqwest::Response) -> String {
    let loc = res
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("no Location in {} from {}", res.status(), res.url()))
        .to_str()
        .unwrap();
    res.url().join(loc).unwrap().to_string()
}

/// The provider's address on the page a confirmation form answers with
/// (a link, not a redirect: `form-action 'self'` also holds for a form's
/// redirects, so the browser would not follow one to the provider).
fn provider_link(page: &str) -> String {
    let at = page
        .find("Weiter zur Anmeldung")
        .unwrap_or_else(|| panic!("no link to the provider in {page}"));
    let start = page[..at].rfind("href=\"").unwrap() + "href=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

/// Starts a sign-in at Nachweis; returns the provider's authorization URL.
async fn start(c: &Client, provider_id: ProviderId) -> String {
    let res = c
        .http
        .get(format!("{}/sso/{provider_id}/start", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "start: {}",
        res.text().await.unwrap()
    );
    location(&res)
}

fn query_param(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// Signs in at the provider's own login page like a browser; returns the
/// callback URL the provider sends the browser back to (not yet followed).
async fn login_at_provider(c: &Client, auth_url: &str, login: &str, password: &str) -> String {
    let res = c.http.get(auth_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "authorize");
    let interaction = location(&res);
    let page = c.http.get(&interaction).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("name=\"password\""));
    let res = c
        .http
        .post(format!("{interaction}/login"))
        .form(&[("login", login), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "provider login of {login}"
    );
    // Then redirects, and the provider's self-submitting forms (it ends its
    // session of another account first), until it sends the browser back.
    let mut res = c.http.get(location(&res)).send().await.unwrap();
    for _ in 0..6 {
        if res.status() == StatusCode::SEE_OTHER || res.status() == StatusCode::FOUND {
            let next = location(&res);
            if next.contains("/sso/callback?") {
                return next;
            }
            res = c.http.get(&next).send().await.unwrap();
            continue;
        }
        let page = res.text().await.unwrap();
        let (action, fields) = auto_submit_form(&page)
            .unwrap_or_else(|| panic!("the provider stopped at a page: {page}"));
        res = c.http.post(action).form(&fields).send().await.unwrap();
    }
    panic!("the provider never sent the browser back");
}

/// The action and hidden fields of a page's form (the provider's
/// "Submitting Callback" pages, which a browser submits by script).
fn auto_submit_form(page: &str) -> Option<(String, Vec<(String, String)>)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(tag[start..end].to_owned())
    };
    let form = page.find("<form")?;
    let form_tag = &page[form..form + page[form..].find('>')?];
    let action = attr(form_tag, "action")?;
    let fields = page[form..]
        .split("<input")
        .skip(1)
        .filter_map(|t| {
            let tag = &t[..t.find('>')?];
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect();
    Some((action, fields))
}

/// Follows the callback at Nachweis: (status, Location or body).
async fn finish(app: &TestApp, c: &Client, callback: &str) -> (StatusCode, String) {
    // The provider stamps tokens with the real time; let ours agree.
    #[allow(clippy::disallowed_methods)]
    app.clock.set(chrono::Utc::now());
    let res = c.http.get(callback).send().await.unwrap();
    let status = res.status();
    if status == StatusCode::SEE_OTHER {
        (status, location(&res))
    } else {
        (status, res.text().await.unwrap())
    }
}

async fn sign_in(
    app: &TestApp,
    c: &Client,
    provider_id: ProviderId,
    login: &str,
    password: &str,
) -> (StatusCode, String) {
    let auth = start(c, provider_id).await;
    let callback = login_at_provider(c, &auth, login, password).await;
    finish(app, c, &callback).await
}

/// An organisation with one customer, and a provider for that customer's
/// people at `issuer`; returns (org, admin client, customer id, provider id).
async fn setup(app: &TestApp, issuer: &str) -> (Org, Client, CustomerId, ProviderId) {
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let customer = admin
        .call(
            "customers/add",
            &[("name", "Beispiel Kunde AG"), ("avv_reference", "AVV-7")],
        )
        .await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let provider = add_provider(&admin, &customer.body, issuer, CUSTOMER_DOMAIN).await;
    assert_eq!(provider.status, StatusCode::OK, "{}", provider.body);
    (
        org,
        admin,
        customer.body.parse().unwrap(),
        provider.body.parse().unwrap(),
    )
}

async fn add_provider(admin: &Client, customer: &str, issuer: &str, domains: &str) -> Answer {
    admin
        .call(
            "sso/providers/add",
            &[
                ("customer", customer),
                ("name", "Kunden-IdP"),
                ("issuer_url", issuer),
                ("client_id", "nachweis"),
                ("client_secret", "nachweis-secret"),
                ("allowed_domains", domains),
            ],
        )
        .await
}

async fn count_users(app: &TestApp) -> u64 {
    users::Entity::find().count(&app.db).await.unwrap()
}

async fn customer_signs_in_with_sso_and_lands_in_the_portal(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let (org, admin, customer_id, provider_id) = setup(&app, &idp.issuer).await;

    // The secret is stored encrypted and never shown again.
    let listed = admin.call("sso/providers", &[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(!listed.body.contains("nachweis-secret"));
    assert!(
        listed
            .body
            .contains(&format!("{}/sso/callback", app.address))
    );
    let row = identity_providers::Entity::find_by_id(provider_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let stored = row.client_secret_enc.expect("a stored secret");
    assert!(!stored.windows(15).any(|w| w == b"nachweis-secret"));

    let users_before = count_users(&app).await;
    let browser = app.client();
    let (status, target) = sign_in(
        &app,
        &browser,
        provider_id,
        "kunde@beispiel-kunde.example",
        "kunde-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    assert!(target.ends_with("/portal"), "{target}");
    let me = browser.call("auth/me", &[]).await;
    let me: Option<app::auth::CurrentUser> = serde_json::from_str(&me.body).expect(&me.body);
    let me = me.expect("signed in");
    assert_eq!(me.email, "kunde@beispiel-kunde.example");
    assert_eq!(me.display_name, "Karla Kunde");
    assert_eq!(me.org.id, org.id);
    assert_eq!(me.org.role, Role::Customer);
    let portal = browser.get("/portal").await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(
        browser
            .call("portal/overview", &[])
            .await
            .status
            .is_success()
    );
    // A customer user reaches nothing internal.
    assert_eq!(
        browser.call("toms/catalogue", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser.call("sso/providers", &[]).await.status,
        StatusCode::FORBIDDEN
    );

    // The membership names the customer; one identity, one new user.
    let m = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(me.user_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.customer_id, Some(customer_id));
    assert_eq!(count_users(&app).await, users_before + 1);

    // The same callback again: the state was used up.
    let other_tab = app.client();
    let auth = start(&other_tab, provider_id).await;
    let callback = login_at_provider(
        &other_tab,
        &auth,
        "kunde@beispiel-kunde.example",
        "kunde-passwort",
    )
    .await;
    let (status, _) = finish(&app, &other_tab, &callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, body) = finish(&app, &other_tab, &callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("abgelaufen oder ungültig"), "{body}");

    // Signing in again is the same person, not a second account.
    assert_eq!(count_users(&app).await, users_before + 1);
    assert_eq!(
        user_identities::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    let audit = admin
        .call(
            "audit/list",
            &[
                ("filter[entity]", "session"),
                ("filter[action]", "login"),
                ("filter[actor]", "kunde@"),
            ],
        )
        .await;
    let entries: Vec<app::audit::AuditEntry> =
        serde_json::from_str(&audit.body).expect(&audit.body);
    assert!(
        entries.iter().any(|e| e
            .after
            .as_deref()
            .is_some_and(|a| a.contains(r#""method":"sso""#))),
        "{entries:?}"
    );
    app.stop().await;
}
both!(customer_signs_in_with_sso_and_lands_in_the_portal);

async fn people_the_rules_do_not_admit_are_refused_and_logged(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let (_org, admin, _customer, provider_id) = setup(&app, &idp.issuer).await;
    let users_before = count_users(&app).await;

    for (login, password, why) in [
        (
            "fremd@anderswo.example",
            "fremd-passwort",
            "anderswo.example is not allowed",
        ),
        (
            "unbestaetigt@beispiel-kunde.example",
            "unbestaetigt-passwort",
            "not verified",
        ),
    ] {
        let c = app.client();
        let (status, body) = sign_in(&app, &c, provider_id, login, password).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}: {body}");
        assert!(body.contains("Kein Zugang"), "{body}");
        assert!(body.contains(why), "{body}");
        let me = c.call("auth/me", &[]).await;
        assert_eq!(me.body, "null", "{login} must not be signed in");
    }
    // Nothing stored but the audit entries the DPO sees.
    assert_eq!(count_users(&app).await, users_before);
    assert_eq!(
        user_identities::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    let audit = admin
        .call(
            "audit/list",
            &[
                ("filter[entity]", "sso"),
                ("filter[action]", "login_refused"),
                ("filter[actor]", ""),
            ],
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let entries: Vec<app::audit::AuditEntry> = serde_json::from_str(&audit.body).unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().any(|e| {
        e.after
            .as_deref()
            .unwrap_or("")
            .contains("fremd@anderswo.example")
    }));
    app.stop().await;
}
both!(people_the_rules_do_not_admit_are_refused_and_logged);

async fn a_required_claim_admits_only_who_carries_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let customer = admin
        .call("customers/add", &[("name", "ConRat Kunde")])
        .await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let provider = admin
        .call(
            "sso/providers/add",
            &[
                ("customer", &customer.body),
                ("name", "Gruppen-IdP"),
                ("issuer_url", &idp.issuer),
                ("client_id", "nachweis"),
                ("client_secret", "nachweis-secret"),
                ("allowed_domains", "conrat.example"),
                // The test provider releases `groups` only for this scope.
                ("scopes", "openid email profile groups"),
                ("required_claim", "groups=nachweis-admins"),
            ],
        )
        .await;
    assert_eq!(provider.status, StatusCode::OK, "{}", provider.body);
    let provider: ProviderId = provider.body.parse().unwrap();
    let users_before = count_users(&app).await;
    // In the group: admitted.
    let member = app.client();
    let (status, target) = sign_in(
        &app,
        &member,
        provider,
        "leitung@conrat.example",
        "leitung-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    assert!(target.ends_with("/portal"), "{target}");
    // Same domain, not in the group: refused, nothing stored.
    let outsider = app.client();
    let (status, body) = sign_in(
        &app,
        &outsider,
        provider,
        "mitarbeiter@conrat.example",
        "mitarbeiter-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("the required claim groups=nachweis-admins is missing"),
        "{body}"
    );
    assert_eq!(outsider.call("auth/me", &[]).await.body, "null");
    assert_eq!(count_users(&app).await, users_before + 1);
    app.stop().await;
}
both!(a_required_claim_admits_only_who_carries_it);

async fn the_address_may_come_from_the_userinfo_endpoint(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let (org, _admin, _customer, provider_id) = setup(&app, &idp.issuer).await;
    // The ID token carries no address and no name: both come from userinfo.
    idp.tamper(serde_json::json!({ "userinfo_only": true }))
        .await;
    let browser = app.client();
    let (status, target) = sign_in(
        &app,
        &browser,
        provider_id,
        "kunde@beispiel-kunde.example",
        "kunde-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    let me: Option<app::auth::CurrentUser> =
        serde_json::from_str(&browser.call("auth/me", &[]).await.body).unwrap();
    let me = me.expect("signed in");
    assert_eq!(me.email, "kunde@beispiel-kunde.example");
    assert_eq!(me.display_name, "Karla Kunde");
    assert_eq!(me.org.id, org.id);
    app.stop().await;
}
both!(the_address_may_come_from_the_userinfo_endpoint);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_attacks_and_broken_providers_fail_cleanly() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let (_org, admin, customer, provider_id) = setup(&app, &idp.issuer).await;
    let users_before = count_users(&app).await;
    let kunde = ("kunde@beispiel-kunde.example", "kunde-passwort");

    // Missing state, and a callback nobody started.
    let c = app.client();
    let (status, body) = finish(&app, &c, &format!("{}/sso/callback?code=abc", app.address)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = finish(
        &app,
        &c,
        &format!("{}/sso/callback?code=abc&state=made-up", app.address),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A tampered state is refused; a tampered code is refused by the provider.
    let auth = start(&c, provider_id).await;
    let callback = login_at_provider(&c, &auth, kunde.0, kunde.1).await;
    let state = query_param(&callback, "state");
    let code = query_param(&callback, "code");
    let with =
        |state: &str, code: &str| format!("{}/sso/callback?state={state}&code={code}", app.address);
    let (status, _) = finish(&app, &c, &with(&format!("{state}x"), &code)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = finish(&app, &c, &with(&state, &format!("{code}x"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("Anmeldung abgewiesen"), "{body}");

    // A code that was used once does not work with a fresh state either.
    let c = app.client();
    let auth = start(&c, provider_id).await;
    let callback = login_at_provider(&c, &auth, kunde.0, kunde.1).await;
    let (status, _) = finish(&app, &c, &callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let used = query_param(&callback, "code");
    let attacker = app.client();
    let fresh = query_param(&start(&attacker, provider_id).await, "state");
    let (status, body) = finish(&app, &attacker, &with(&fresh, &used)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(attacker.call("auth/me", &[]).await.body, "null");

    // ID tokens the provider's key signed but that are not for this sign-in.
    for (tamper, expect) in [
        (json!({ "nonce": "someone-elses-nonce" }), "nonce"),
        (json!({ "aud": "other-app" }), "audiences"),
        (json!({ "iss": "http://127.0.0.1:1/evil" }), "issuer"),
        (json!({ "exp_offset": -3600 }), "expired"),
    ] {
        idp.tamper(tamper.clone()).await;
        let c = app.client();
        let (status, body) = sign_in(&app, &c, provider_id, kunde.0, kunde.1).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{tamper}: {body}");
        assert!(body.to_lowercase().contains(expect), "{tamper}: {body}");
        assert_eq!(c.call("auth/me", &[]).await.body, "null");
    }
    // Thirty seconds past expiry is within the clock skew we allow.
    idp.tamper(json!({ "exp_offset": -30 })).await;
    let c = app.client();
    let (status, body) = sign_in(&app, &c, provider_id, kunde.0, kunde.1).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    idp.tamper(json!({})).await;

    // The provider says no.
    let c = app.client();
    let state = query_param(&start(&c, provider_id).await, "state");
    let (status, body) = finish(
        &app,
        &c,
        &format!(
            "{}/sso/callback?state={state}&error=access_denied&error_description=User%20cancelled",
            app.address
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("access_denied"), "{body}");

    // Discovery answering garbage, a provider that is down, an issuer that
    // does not match what the provider says it is: a clear page, never a 500.
    idp.tamper(json!({ "garbage_discovery": true })).await;
    let res = c
        .http
        .get(format!("{}/sso/{provider_id}/start", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert!(res.text().await.unwrap().contains("nicht erreichbar"));
    idp.tamper(json!({})).await;
    for issuer in [
        format!("http://127.0.0.1:{}", free_port()),
        format!("http://localhost:{}", idp.port),
    ] {
        let p = add_provider(&admin, &customer.to_string(), &issuer, CUSTOMER_DOMAIN).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        let res = c
            .http
            .get(format!("{}/sso/{}/start", app.address, p.body))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{issuer}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Der Anmeldedienst ist nicht erreichbar"),
            "{body}"
        );
    }
    // Unknown and switched-off providers.
    let res = c
        .http
        .get(format!("{}/sso/99999/start", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let off = admin
        .call(
            "sso/providers/enable",
            &[("id", &provider_id.to_string()), ("enabled", "false")],
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let res = c
        .http
        .get(format!("{}/sso/{provider_id}/start", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Of all this, only the two good sign-ins left a person behind.
    assert_eq!(count_users(&app).await, users_before + 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_settings_are_checked_before_anything_is_stored() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let long = format!("https://idp.example.com/{}", "a".repeat(600));
    for (issuer, domains) in [
        (long.as_str(), "kunde.example"),
        ("not a url", "kunde.example"),
        ("ftp://idp.example.com", "kunde.example"),
        ("http://idp.example.com", "kunde.example"),
        ("https://idp.example.com/?tenant=1", "kunde.example"),
        ("https://user:pw@idp.example.com", "kunde.example"),
        ("https://idp.example.com", ""),
        ("https://idp.example.com", "not a domain!"),
    ] {
        let a = add_provider(&admin, "", issuer, domains).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{issuer} {domains}: {}",
            a.body
        );
        assert!(!a.body.contains("nachweis-secret"));
    }
    let a = add_provider(&admin, "424242", "https://idp.example.com", "kunde.example").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    assert_eq!(
        identity_providers::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_through_the_company_idp_with_mapped_roles() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let org = app.org("conrat").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let id = add_staff_provider(
        &admin,
        &idp.issuer,
        &[
            // The test provider releases `groups` only for this scope (as Authentik does).
            ("scopes", "openid email profile groups"),
            (
                "role_mapping",
                "nachweis-admins=admin\nnachweis-pruefer=auditor",
            ),
        ],
    )
    .await;

    // The login page's e-mail field finds the provider by domain.
    let found = app
        .client()
        .get("/sso?email=leitung%40conrat.example")
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found.body.contains(&format!("/sso/{id}/start")),
        "{}",
        found.body
    );
    let none = app.client().get("/sso?email=x%40nirgends.example").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    let c = app.client();
    let (status, target) =
        sign_in(&app, &c, id, "leitung@conrat.example", "leitung-passwort").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    assert!(target.ends_with('/'), "{target}");
    let me: Option<app::auth::CurrentUser> =
        serde_json::from_str(&c.call("auth/me", &[]).await.body).unwrap();
    assert_eq!(me.unwrap().org.role, Role::Admin);
    // A customer's address is no staff member, whatever the IdP says.
    let c = app.client();
    let (status, _) = sign_in(
        &app,
        &c,
        id,
        "kunde@beispiel-kunde.example",
        "kunde-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let _ = app.clock.now();
    app.stop().await;
}

/// The company's own provider "Firmen-Login" for staff of conrat.example
/// (role staff unless mapped), with `extra` form fields; returns its id.
async fn add_staff_provider(admin: &Client, issuer: &str, extra: &[(&str, &str)]) -> ProviderId {
    let mut form = vec![
        ("customer", ""),
        ("name", "Firmen-Login"),
        ("issuer_url", issuer),
        ("client_id", "nachweis"),
        ("client_secret", "nachweis-secret"),
        ("allowed_domains", "conrat.example"),
        ("default_role", "staff"),
    ];
    form.extend_from_slice(extra);
    let p = admin.call("sso/providers/add", &form).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    p.body.parse().unwrap()
}

/// Audit rows about identity providers.
async fn provider_audit(app: &TestApp) -> Vec<app::entities::audit_log::Model> {
    app::entities::audit_log::Entity::find()
        .filter(app::entities::audit_log::Column::Entity.eq("identity_provider"))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn providers_from_the_config_file_are_synced_at_start() {
    use app::sso::service::ConfiguredProvider;
    let db = TestDb::new(Backend::Sqlite).await;
    // A fixed port: the provider knows our callback URL across restarts.
    let port = free_port();
    let mut config = config_for(&db);
    config.listen = format!("127.0.0.1:{port}").parse().unwrap();
    config.public_url = format!("http://127.0.0.1:{port}");
    let idp = OidcProvider::start(&format!("{}/sso/callback", config.public_url));
    #[allow(clippy::disallowed_methods)]
    let clock = Arc::new(TestClock::at(chrono::Utc::now()));

    let app = spawn_with(config.clone(), clock.clone()).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let customer = admin
        .call("customers/add", &[("name", "Beispiel Kunde AG")])
        .await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    app.stop().await;

    let entry = |org: &str, customer: &str| ConfiguredProvider {
        org: org.into(),
        customer: Some(customer.into()),
        fields: app::sso::NewProvider {
            name: "Kunden-IdP (Datei)".into(),
            issuer_url: idp.issuer.clone(),
            client_id: "nachweis".into(),
            client_secret: "nachweis-secret".into(),
            allowed_domains: CUSTOMER_DOMAIN.into(),
            ..Default::default()
        },
        enabled: true,
        email_verified_optional: false,
    };
    // A wrong entry stops the start, names itself, and changes nothing.
    for bad in [
        entry("nirgends", "Beispiel Kunde AG"),
        entry("acme", "Unbekannt GmbH"),
        ConfiguredProvider {
            fields: app::sso::NewProvider {
                issuer_url: "ftp://x".into(),
                ..entry("acme", "Beispiel Kunde AG").fields
            },
            ..entry("acme", "Beispiel Kunde AG")
        },
    ] {
        let mut c = config.clone();
        c.sso_providers = vec![entry("acme", "Beispiel Kunde AG"), bad];
        let e = server::startup::Application::build_with_clock(&c, clock.clone())
            .await
            .err()
            .expect("a wrong entry refuses to start")
            .to_string();
        assert!(e.contains("sso.providers") && e.contains("Nr. 2"), "{e}");
        assert_eq!(
            identity_providers::Entity::find()
                .count(&sea_orm::Database::connect(&db.url).await.unwrap())
                .await
                .unwrap(),
            0,
            "{e}"
        );
    }

    config.sso_providers = vec![entry("acme", "Beispiel Kunde AG")];
    let app = spawn_with(config.clone(), clock.clone()).await;
    let rows = identity_providers::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].source, "config");
    let id = rows[0].id;
    assert!(
        !String::from_utf8_lossy(rows[0].client_secret_enc.as_deref().unwrap())
            .contains("nachweis-secret"),
        "the secret is stored sealed"
    );
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let a = admin
        .call(
            "sso/providers/enable",
            &[("id", &id.to_string()), ("enabled", "false")],
        )
        .await;
    assert!(a.body.contains("Konfigurationsdatei"), "{}", a.body);
    let c = app.client();
    let (status, target) = sign_in(
        &app,
        &c,
        id,
        "kunde@beispiel-kunde.example",
        "kunde-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    assert!(target.ends_with("/portal"), "{target}");
    let audited = provider_audit(&app).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].action, "create");
    app.stop().await;

    // The same file again changes nothing; a changed one updates the row.
    let app = spawn_with(config.clone(), clock.clone()).await;
    assert_eq!(
        provider_audit(&app).await.len(),
        1,
        "unchanged: no audit row"
    );
    app.stop().await;
    config.sso_providers[0].fields.allowed_domains = "anderer-kunde.example".into();
    let app = spawn_with(config.clone(), clock.clone()).await;
    let row = identity_providers::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.allowed_domains, "anderer-kunde.example");
    assert_eq!(provider_audit(&app).await.len(), 2);
    app.stop().await;

    // Removed from the file: disabled, not deleted; its sign-in link is dead.
    config.sso_providers.clear();
    let app = spawn_with(config.clone(), clock.clone()).await;
    let row = identity_providers::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.enabled);
    let res = app
        .client()
        .http
        .get(format!("{}/sso/{id}/start", app.address))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

/// Starts the confirmation of a pledge from the pledge page's form; returns
/// (status, Location).
async fn confirm_pledge_form(c: &Client, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = c
        .http
        .post(format!("{}/verpflichtung/sso", c.base))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let target = if status == StatusCode::SEE_OTHER {
        location(&res)
    } else if status == StatusCode::OK {
        provider_link(&res.text().await.unwrap())
    } else {
        res.text().await.unwrap()
    };
    (status, target)
}

/// People who sign in only through the company's identity provider have no
/// password to confirm their pledge with: a fresh login at the provider
/// does it instead. Refused: a mistake in the form (before leaving), a
/// login as somebody else, a provider that did not ask for the password
/// again (old `auth_time`), the same answer twice.
async fn staff_without_password_confirm_the_pledge_with_a_fresh_login(backend: Backend) {
    use app::entities::pledge_signatures;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let org = app.org("conrat").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let provider = add_staff_provider(&admin, &idp.issuer, &[]).await;
    let o: app::pledges::PledgeOverview =
        serde_json::from_str(&admin.call("pledges/overview", &[]).await.body).unwrap();
    let a = admin
        .call(
            "pledges/publish",
            &[("title", &o.draft_title), ("body", &o.draft_body)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    let staff = app.client();
    let (status, target) = sign_in(
        &app,
        &staff,
        provider,
        "mitarbeiter@conrat.example",
        "mitarbeiter-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    let mine: app::pledges::MyPledge =
        serde_json::from_str(&staff.call("pledges/mine", &[]).await.body).unwrap();
    assert!(!mine.has_password);
    assert_eq!(mine.sso, vec![(provider, "Firmen-Login".to_owned())]);
    let text = mine.current.unwrap();
    let (id, sha, pid) = (
        text.id.to_string(),
        text.sha256.clone(),
        provider.to_string(),
    );
    let form = |name: &'static str| {
        vec![
            ("text_id", id.clone()),
            ("text_sha256", sha.clone()),
            ("typed_name", name.to_owned()),
            ("confirm", "ja".to_owned()),
            ("provider_id", pid.clone()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let staff = staff.clone();
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            confirm_pledge_form(&staff, &pairs).await
        }
    };
    let signatures = || async {
        pledge_signatures::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
    };

    // The password way says there is none.
    let a = staff
        .call(
            "pledges/sign",
            &[
                ("text_id", id.as_str()),
                ("text_sha256", sha.as_str()),
                ("typed_name", "Max Mitarbeiter"),
                ("password", "irgendwas"),
                ("confirm", "ja"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422, "{}", a.body);
    assert!(a.body.contains("kein Passwort"), "{}", a.body);

    // A wrong name goes back to the form before anyone leaves for the provider.
    let (status, back) = post(form("Moritz Mitarbeiter")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(back.contains("/verpflichtung?fehler="), "{back}");
    assert!(back.contains("Max%20Mitarbeiter"), "names the name: {back}");
    // Another organisation's provider id, or none of the person's: refused.
    let mut f = form("Max Mitarbeiter");
    f[4].1 = "999".into();
    assert_eq!(post(f).await.0, StatusCode::NOT_FOUND);

    // Somebody else logs in at the provider: nothing is signed.
    let (status, auth) = post(form("Max Mitarbeiter")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a page linking the provider: {auth}"
    );
    assert_eq!(query_param(&auth, "prompt"), "login");
    assert_eq!(query_param(&auth, "max_age"), "0");
    assert_eq!(
        query_param(&auth, "login_hint"),
        "mitarbeiter@conrat.example"
    );
    let callback =
        login_at_provider(&staff, &auth, "leitung@conrat.example", "leitung-passwort").await;
    let (status, body) = finish(&app, &staff, &callback).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(signatures().await.is_empty());

    // A provider that did not ask for the password again.
    idp.tamper(json!({ "auth_time_offset": -3600 })).await;
    let (_, auth) = post(form("Max Mitarbeiter")).await;
    let callback = login_at_provider(
        &staff,
        &auth,
        "mitarbeiter@conrat.example",
        "mitarbeiter-passwort",
    )
    .await;
    let (status, body) = finish(&app, &staff, &callback).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body.contains("auth_time") || body.contains("password again"),
        "{body}"
    );
    assert!(signatures().await.is_empty());
    idp.tamper(json!({})).await;

    // The person themselves, freshly: signed, by SSO, the copy says so.
    let (_, auth) = post(form("  max   MITARBEITER ")).await;
    let callback = login_at_provider(
        &staff,
        &auth,
        "mitarbeiter@conrat.example",
        "mitarbeiter-passwort",
    )
    .await;
    let (status, target) = finish(&app, &staff, &callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    assert!(target.ends_with("/verpflichtung"), "{target}");
    let stored = signatures().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].method, "sso");
    assert_eq!(stored[0].typed_name, "max MITARBEITER");
    let text = crate::publish::annex_text(&stored[0].pdf);
    assert!(
        text.contains("erneute Anmeldung bei Firmen-Login"),
        "{text}"
    );
    // The provider's answer works once; the pledge is signed once.
    let (status, _) = finish(&app, &staff, &callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, back) = post(form("Max Mitarbeiter")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(back.contains("bereits"), "{back}");
    assert_eq!(signatures().await.len(), 1);
    app.stop().await;
}
both!(staff_without_password_confirm_the_pledge_with_a_fresh_login);

/// A customer's employee who signs in only through their company's
/// provider accepts the offered AVV with a fresh login there (the same
/// mechanism as the pledge). A mistake or a stale document goes back to
/// the portal before anyone leaves; the record names the provider and the
/// subject; the provider's answer works once.
async fn a_customer_accepts_the_contract_with_a_fresh_login(backend: Backend) {
    use app::entities::contract_acceptances;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let (_org, admin, customer_id, provider) = setup(&app, &idp.issuer).await;
    crate::contract::make_ready(
        &admin,
        &customer_id.to_string(),
        "Hosting.",
        "Rechenzentrum Süd",
    )
    .await;
    let a = admin
        .call(
            "contract/offer",
            &[("customer_id", &customer_id.to_string())],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    let kunde = app.client();
    let (status, target) = sign_in(
        &app,
        &kunde,
        provider,
        "kunde@beispiel-kunde.example",
        "kunde-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    let c: Option<app::contract::PortalContract> =
        serde_json::from_str(&kunde.call("contract/portal", &[]).await.body).unwrap();
    let c = c.expect("offered");
    assert!(!c.has_password);
    assert_eq!(c.sso, vec![(provider, "Kunden-IdP".to_owned())]);
    let offer = c.pending.expect("pending").offer;
    let form = |name: &str, sha: &str| {
        vec![
            ("offer_id", offer.id.to_string()),
            ("sha256", sha.to_owned()),
            ("typed_name", name.to_owned()),
            ("function", "Prokuristin".to_owned()),
            ("confirm", "ja".to_owned()),
            ("provider_id", provider.to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let kunde = kunde.clone();
        async move {
            let res = kunde
                .http
                .post(format!("{}/avv-abschluss/sso", kunde.base))
                .form(&f)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let target = if status == StatusCode::OK {
                provider_link(&res.text().await.unwrap())
            } else {
                location(&res)
            };
            (status, target)
        }
    };
    let stored = || async {
        contract_acceptances::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
    };
    // A wrong name, a stale document: back to the portal, nothing stored.
    let (status, back) = post(form("Karl Kunde", &offer.sha256)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(back.contains("/portal?fehler="), "{back}");
    assert!(back.contains("Karla%20Kunde"), "names the name: {back}");
    let (status, back) = post(form("Karla Kunde", &"f".repeat(64))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(back.contains("ge%C3%A4ndert"), "{back}");
    assert!(stored().await.is_empty());

    // Freshly at the provider: accepted, by SSO, and the record says who.
    let (status, auth) = post(form("Karla Kunde", &offer.sha256)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a page linking the provider: {auth}"
    );
    assert_eq!(query_param(&auth, "prompt"), "login");
    let callback = login_at_provider(
        &kunde,
        &auth,
        "kunde@beispiel-kunde.example",
        "kunde-passwort",
    )
    .await;
    let (status, target) = finish(&app, &kunde, &callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    assert!(target.contains("/portal?avv=angenommen"), "{target}");
    let rows = stored().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].method, "sso");
    assert!(
        rows[0].identity.contains("Kunden-IdP")
            && rows[0]
                .identity
                .contains("Subjekt kunde@beispiel-kunde.example"),
        "{}",
        rows[0].identity
    );
    let text = crate::annex::pdftotext(&rows[0].pdf);
    assert!(text.contains("erneute Anmeldung bei Kunden-IdP"), "{text}");
    assert!(text.contains("Prokuristin"), "{text}");
    // The answer works once; the contract is accepted once.
    let (status, _) = finish(&app, &kunde, &callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, back) = post(form("Karla Kunde", &offer.sha256)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(back.contains("bereits"), "{back}");
    assert_eq!(stored().await.len(), 1);
    app.stop().await;
}
both!(a_customer_accepts_the_contract_with_a_fresh_login);

/// A provider the admin of one organisation controls must never reach into
/// another organisation. Two real provider processes, one per organisation:
/// the victim's ("opfer") and the one an admin of "angreifer" runs.
/// - domain claims: a domain other organisations' members use, or another
///   organisation's provider claims, is refused to an org admin;
/// - no linking by e-mail: a provider that says "admin@opfer.example" (one
///   that slipped in before these rules) gets no account, no membership,
///   no session: the account holder links an identity themselves, signed in;
/// - an SSO session reaches only the provider's organisation;
/// - `email_verified` is required unless the operator says otherwise.
async fn providers_act_only_inside_their_own_organisation(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let callback = format!("{}/sso/callback", app.address);
    let victim_idp = OidcProvider::start(&callback);
    let attacker_idp = OidcProvider::start(&callback);
    let victim = app.org("opfer").await;
    let attacker = app.org("angreifer").await;
    let victim_admin = app.client();
    victim_admin.login_ok(&victim.email(Role::Admin)).await;
    let attacker_admin = app.client();
    attacker_admin.login_ok(&attacker.email(Role::Admin)).await;
    let staff_provider = |issuer: String, domains: &'static str| {
        vec![
            ("customer", "".to_owned()),
            ("name", "Firmen-Login".to_owned()),
            ("issuer_url", issuer),
            ("client_id", "nachweis".to_owned()),
            ("client_secret", "nachweis-secret".to_owned()),
            ("allowed_domains", domains.to_owned()),
            ("default_role", "staff".to_owned()),
        ]
    };
    let add = |c: &Client, form: Vec<(&'static str, String)>| {
        let c = c.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.call("sso/providers/add", &form).await
        }
    };
    let providers_before = identity_providers::Entity::find()
        .count(&app.db)
        .await
        .unwrap();

    // Domain claims. The victim's members use opfer.example: refused to
    // the other organisation's admin, with the way to the operator.
    let refused = add(
        &attacker_admin,
        staff_provider(attacker_idp.issuer.clone(), "opfer.example"),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Betreiber"), "{}", refused.body);
    let own = add(
        &attacker_admin,
        staff_provider(attacker_idp.issuer.clone(), "angreifer.example"),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let victim_provider: ProviderId = {
        let a = add(
            &victim_admin,
            staff_provider(victim_idp.issuer.clone(), "opfer.example"),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.body.parse().unwrap()
    };
    // Claimed by the victim's provider now: refused as well.
    let refused = add(
        &attacker_admin,
        staff_provider(
            attacker_idp.issuer.clone(),
            "opfer.example, angreifer.example",
        ),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        identity_providers::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        providers_before + 2
    );
    // The login page offers the victim's people their own provider only.
    let found = app.client().get("/sso?email=admin%40opfer.example").await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found
            .body
            .contains(&format!("/sso/{victim_provider}/start"))
    );
    assert_eq!(found.body.matches("/start").count(), 1, "{}", found.body);

    // A provider that slipped in anyway (before these rules, say) claims
    // the victim's domain. Signing in as the victim's address through it:
    // no link, no membership, no session.
    let rogue: ProviderId = {
        let a = add(
            &attacker_admin,
            staff_provider(attacker_idp.issuer.clone(), "rogue.example"),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.body.parse().unwrap()
    };
    let mut row: app::entities::identity_providers::ActiveModel =
        identity_providers::Entity::find_by_id(rogue)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into();
    row.allowed_domains = sea_orm::Set("opfer.example".into());
    row.default_role = sea_orm::Set("admin".into());
    sea_orm::ActiveModelTrait::update(row, &app.db)
        .await
        .unwrap();
    let attacker_browser = app.client();
    let (status, body) = sign_in(
        &app,
        &attacker_browser,
        rogue,
        "admin@opfer.example",
        "opfer-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("noch nicht verknüpft"), "{body}");
    assert_eq!(attacker_browser.call("auth/me", &[]).await.body, "null");
    let victim_id = victim.user_id(Role::Admin);
    assert_eq!(
        user_identities::Entity::find()
            .filter(user_identities::Column::UserId.eq(victim_id))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        memberships::Entity::find()
            .filter(memberships::Column::UserId.eq(victim_id))
            .count(&app.db)
            .await
            .unwrap(),
        1,
        "no membership in the attacker's organisation"
    );

    // The account holder links their own organisation's provider: signed
    // in with the password, confirmed, a fresh login at the provider.
    assert_eq!(
        victim_admin
            .get(&format!("/sso/{rogue}/verknuepfen"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "another organisation's provider cannot be linked"
    );
    let page = victim_admin
        .get(&format!("/sso/{victim_provider}/verknuepfen"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("method=\"post\""), "{}", page.body);
    let res = victim_admin
        .http
        .post(format!("{}/sso/{victim_provider}/verknuepfen", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a page linking the provider");
    let auth = provider_link(&res.text().await.unwrap());
    assert!(auth.contains("prompt=login"), "{auth}");
    let back = login_at_provider(
        &victim_admin,
        &auth,
        "admin@opfer.example",
        "opfer-passwort",
    )
    .await;
    let (status, body) = finish(&app, &victim_admin, &back).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("verknüpft"), "{body}");
    assert_eq!(
        user_identities::Entity::find()
            .filter(user_identities::Column::UserId.eq(victim_id))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );

    // From now on the victim signs in through their provider; the session
    // reaches the provider's organisation only, even though the person is
    // also a member elsewhere.
    app::orgs::service::add_membership(
        &app.db,
        app.clock.now(),
        &app::audit::service::AuditActor::system("test"),
        attacker.id,
        victim_id,
        Role::Auditor,
    )
    .await
    .unwrap();
    let sso_browser = app.client();
    let (status, target) = sign_in(
        &app,
        &sso_browser,
        victim_provider,
        "admin@opfer.example",
        "opfer-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    let me: app::auth::CurrentUser =
        serde_json::from_str::<Option<_>>(&sso_browser.call("auth/me", &[]).await.body)
            .unwrap()
            .unwrap();
    assert_eq!(me.user_id, victim_id);
    assert_eq!(me.org.id, victim.id);
    assert_eq!(me.orgs.len(), 1, "{:?}", me.orgs);
    let switch = sso_browser
        .call("auth/switch-org", &[("org_id", &attacker.id.to_string())])
        .await;
    assert_eq!(switch.status, StatusCode::NOT_FOUND, "{}", switch.body);
    // Accepting an invitation of a third organisation does not lift that.
    let third = app.org("dritte").await;
    let inviter = app.client();
    inviter.login_ok(&third.email(Role::Admin)).await;
    let a = inviter
        .call(
            "orgs/invite",
            &[("email", "admin@opfer.example"), ("role", "staff")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let link: String = serde_json::from_str(&a.body).unwrap();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let a = sso_browser
        .call("orgs/invitation/accept", &[("token", &token)])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(a.body.contains("anderen Organisation"), "{}", a.body);
    let me: app::auth::CurrentUser =
        serde_json::from_str::<Option<_>>(&sso_browser.call("auth/me", &[]).await.body)
            .unwrap()
            .unwrap();
    assert_eq!(me.orgs.len(), 1, "{:?}", me.orgs);
    // Another site cannot start a sign-in (login CSRF through a provider).
    let res = app
        .client()
        .http
        .get(format!("{}/sso/{victim_provider}/start", app.address))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // With the password, both memberships are reachable.
    let me: app::auth::CurrentUser =
        serde_json::from_str::<Option<_>>(&victim_admin.call("auth/me", &[]).await.body)
            .unwrap()
            .unwrap();
    assert_eq!(me.orgs.len(), 2);

    // email_verified: required, unless the operator marked the provider.
    let c = app.client();
    let (status, body) = sign_in(
        &app,
        &c,
        victim_provider,
        "ohne-claim@opfer.example",
        "ohne-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("email_verified"), "{body}");
    let mut row: app::entities::identity_providers::ActiveModel =
        identity_providers::Entity::find_by_id(victim_provider)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into();
    row.email_verified_optional = sea_orm::Set(true);
    sea_orm::ActiveModelTrait::update(row, &app.db)
        .await
        .unwrap();
    let c = app.client();
    let (status, body) = sign_in(
        &app,
        &c,
        victim_provider,
        "ohne-claim@opfer.example",
        "ohne-passwort",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    app.stop().await;
}
both!(providers_act_only_inside_their_own_organisation);

/// Without the operator's permission, discovery, keys and tokens may not
/// come from loopback or private addresses: an admin cannot point
/// Nachweis at the server's own network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_on_private_addresses_are_refused_unless_the_operator_allows() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = config_for(&db);
    config.sso_allow_private_addresses = false;
    #[allow(clippy::disallowed_methods)]
    let clock = Arc::new(TestClock::at(chrono::Utc::now()));
    let app = spawn_with(config, clock).await;
    let idp = OidcProvider::start(&format!("{}/sso/callback", app.address));
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    for issuer in [
        idp.issuer.clone(),
        idp.issuer.replace("127.0.0.1", "localhost"),
    ] {
        let a = add_provider(&admin, "", &issuer, "acme.example").await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{issuer}: {}",
            a.body
        );
        assert!(a.body.contains("nicht erlaubt"), "{}", a.body);
    }
    // One stored before (or by another path) is refused at sign-in, before
    // any request reaches the address.
    let row = app::entities::identity_providers::ActiveModel {
        org_id: sea_orm::Set(org.id),
        customer_id: sea_orm::Set(None),
        name: sea_orm::Set("Intern".into()),
        issuer_url: sea_orm::Set(idp.issuer.clone()),
        client_id: sea_orm::Set("nachweis".into()),
        client_secret_enc: sea_orm::Set(None),
        scopes: sea_orm::Set("openid email profile".into()),
        allowed_domains: sea_orm::Set("acme.example".into()),
        required_claim: sea_orm::Set(String::new()),
        default_role: sea_orm::Set("staff".into()),
        role_mapping: sea_orm::Set(String::new()),
        enabled: sea_orm::Set(true),
        source: sea_orm::Set("admin".into()),
        email_verified_optional: sea_orm::Set(false),
        created_at: sea_orm::Set(app.clock.now()),
        ..Default::default()
    };
    let row = sea_orm::ActiveModelTrait::insert(row, &app.db)
        .await
        .unwrap();
    let res = app
        .client()
        .http
        .get(format!("{}/sso/{}/start", app.address, row.id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body = res.text().await.unwrap();
    assert!(body.contains("loopback or private"), "{body}");
    app.stop().await;
}
