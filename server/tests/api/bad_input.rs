//! Bad input gets a clear error, stores nothing, and never a 500.

use app::domain::Role;
use app::error::AppError;
use reqwest::StatusCode;

use crate::both;
use crate::catalogue::{catalogue, category_id, create, measure};
use crate::helpers::*;

async fn measure_count(c: &Client) -> usize {
    catalogue(c)
        .await
        .categories
        .iter()
        .map(|c| c.measures.len())
        .sum()
}

async fn invalid_measures_are_refused_and_nothing_is_stored(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let k = category_id(&cat, "1").to_string();
    let before = measure_count(&c).await;

    let huge = "x".repeat(10 * 1024 * 1024);
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let bad: Vec<(&str, Form, &str)> = vec![
        (
            "empty text",
            vec![
                ("category_id", &k),
                ("title", ""),
                ("body", "   "),
                ("status", "planned"),
            ],
            "body",
        ),
        (
            "10 MB text",
            vec![
                ("category_id", &k),
                ("title", ""),
                ("body", &huge),
                ("status", "planned"),
            ],
            "body",
        ),
        (
            "unknown category",
            vec![
                ("category_id", "999999"),
                ("title", ""),
                ("body", "Text"),
                ("status", "planned"),
            ],
            "category_id",
        ),
        (
            "unknown status",
            vec![
                ("category_id", &k),
                ("title", ""),
                ("body", "Text"),
                ("status", "done"),
            ],
            "status",
        ),
        (
            "control characters",
            vec![
                ("category_id", &k),
                ("title", ""),
                ("body", "a\u{7}b"),
                ("status", "planned"),
            ],
            "body",
        ),
    ];
    for (what, form, field) in bad {
        let a = c.call("toms/measure/create", &form).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            &a.body[..a.body.len().min(300)]
        );
        let e = a
            .error()
            .unwrap_or_else(|| panic!("{what}: not an AppError: {}", a.body));
        assert_eq!(e.field(), Some(field), "{what}: {e:?}");
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        measure_count(&c).await,
        before,
        "a refused measure was stored"
    );
    app.stop().await;
}
both!(invalid_measures_are_refused_and_nothing_is_stored);

async fn malformed_posts_get_400_not_500(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let before = measure_count(&c).await;
    for form in [
        vec![],
        vec![
            ("category_id", "eins"),
            ("title", ""),
            ("body", "x"),
            ("status", "planned"),
        ],
        vec![("body", "x")],
    ] {
        let a = c.call("toms/measure/create", &form).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form:?}: {}", a.body);
        assert!(
            matches!(a.error(), Some(AppError::BadRequest(_))),
            "{}",
            a.body
        );
    }
    // Not a form at all.
    let res = c
        .http
        .post(format!("{}/api/toms/measure/create", c.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(vec![0xff, 0xfe, 0x00, 0x25, 0x25])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Unknown server function.
    assert_eq!(c.call("toms/nope", &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(measure_count(&c).await, before);
    app.stop().await;
}
both!(malformed_posts_get_400_not_500);

async fn html_in_text_is_stored_verbatim_and_rendered_inert(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let evil = "</textarea><script>alert('x')</script><img src=x onerror=alert(1)> & „Anführung“";
    let id = create(&c, category_id(&cat, "1"), evil).await;
    assert_eq!(measure(&c, id).await.body, evil);
    let page = c.get(&format!("/massnahmen/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("<script>alert"),
        "script tag rendered live"
    );
    assert!(!page.body.contains("<img src=x"), "img tag rendered live");
    assert!(
        page.body.contains("&lt;script&gt;alert"),
        "escaped text missing"
    );
    app.stop().await;
}
both!(html_in_text_is_stored_verbatim_and_rendered_inert);

async fn no_js_form_post_shows_the_error_on_the_page(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    // Login without JavaScript: a plain form post, redirected back with the error.
    let a = c
        .post_form(
            "auth/login",
            &[
                ("email", &org.email(Role::Admin)),
                ("password", "falsch"),
                ("next", ""),
            ],
            "/login",
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND);
    let back = a.headers["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err="), "{back}");
    let path = back.trim_start_matches(&c.base);
    let page = c.get(path).await;
    assert!(
        page.body.contains("Anmeldung fehlgeschlagen"),
        "error not shown on the page"
    );
    // And the right password leads to the start page.
    let a = c
        .post_form(
            "auth/login",
            &[
                ("email", &org.email(Role::Admin)),
                ("password", PASSWORD),
                ("next", "/massnahmen"),
            ],
            "/login",
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND);
    assert_eq!(a.headers["location"], "/massnahmen");
    app.stop().await;
}
both!(no_js_form_post_shows_the_error_on_the_page);

/// The form pattern without JavaScript, beyond the measure: a refused post
/// comes back with a summary that takes the focus and links to the field,
/// and the message at the field (`aria-invalid`, `aria-describedby`); a
/// good save comes back to what was saved, with a confirmation.
async fn forms_without_javascript_answer_at_the_field(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let refused =
        |endpoint: &'static str, form: Vec<(&'static str, &'static str)>, page: &'static str| {
            let c = &c;
            async move {
                let a = c.post_form(endpoint, &form, page).await;
                assert_eq!(a.status, StatusCode::FOUND, "{endpoint}: {}", a.body);
                let back = a.headers["location"].to_str().unwrap().to_owned();
                assert!(back.contains("__err="), "{back}");
                c.get(back.trim_start_matches(&c.base)).await.body
            }
        };
    for (endpoint, form, page, id) in [
        ("customers/add", vec![("name", "   ")], "/kunden", "cu-name"),
        (
            "pledges/publish",
            vec![("title", " "), ("body", "Ich verpflichte mich.")],
            "/verpflichtungen",
            "pledge-title",
        ),
        (
            "orgs/invite",
            vec![("email", "keine-adresse"), ("role", "staff")],
            "/mitglieder",
            "invite-email",
        ),
        (
            "training/courses/create",
            vec![("title", "Kurs"), ("source", "# Kurs\n\nOhne Test.")],
            "/schulungen/kurse",
            "c-new-source",
        ),
    ] {
        let body = refused(endpoint, form, page).await;
        assert!(
            body.contains("data-test=\"error-summary\""),
            "{endpoint}: {body}"
        );
        assert!(body.contains("autofocus"), "{endpoint}");
        assert!(
            body.contains(&format!(r##"href="#{id}""##)),
            "{endpoint}: {body}"
        );
        assert!(
            body.contains(&format!(r#"id="{id}-error""#)),
            "{endpoint}: {body}"
        );
        assert!(
            body.contains(&format!(r#"aria-describedby="{id}-error""#)),
            "{endpoint}: {body}"
        );
        assert!(body.contains(r#"aria-invalid="true""#), "{endpoint}");
    }

    let a = c
        .post_form(
            "subprocessors/save",
            &[
                ("name", "Rechenzentrum GmbH"),
                ("safeguard", "eu"),
                ("status", "active"),
            ],
            "/unterauftragsverarbeiter",
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    let to = a.headers["location"].to_str().unwrap().to_owned();
    let id = to
        .strip_prefix("/unterauftragsverarbeiter?gespeichert=")
        .and_then(|rest| rest.split('#').next())
        .unwrap_or_else(|| panic!("{to}"));
    assert!(to.ends_with(&format!("#sub-{id}")), "{to}");
    let page = c.get(to.split('#').next().unwrap()).await.body;
    let card = page
        .split(&format!(r#"id="sub-{id}""#))
        .nth(1)
        .expect("the saved card");
    assert!(
        card.split("</section>")
            .next()
            .unwrap()
            .contains("Gespeichert – Version"),
        "{page}"
    );
    app.stop().await;
}
both!(forms_without_javascript_answer_at_the_field);

/// A refused form comes back with what was typed, not with the stored data
/// (outside the islands every form posts, with and without JavaScript):
/// once, for the session that typed it, and escaped like any text.
async fn refused_forms_keep_what_was_typed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let zutritt = category_id(&catalogue(&c).await, "3.1");
    let id = create(&c, zutritt, "Besucher werden registriert.").await;
    let (id_s, cat_s) = (id.to_string(), zutritt.to_string());

    // Someone else saves first (version 2) …
    let other = app.client();
    other.login_ok(&org.email(Role::Admin)).await;
    let saved = "Besucher werden am Empfang registriert.";
    let a = other
        .call(
            "toms/measure/update",
            &[
                ("id", &id_s),
                ("version", "1"),
                ("category_id", &cat_s),
                ("title", ""),
                ("body", saved),
                ("status", "implemented"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // … so the DPO's careful rewrite from the open form is refused.
    let typed = "Besucher tragen sich ein </textarea><b>und</b> werden begleitet.";
    let page = format!("/massnahmen/{id}?bearbeiten=1");
    let a = c
        .post_form(
            "toms/measure/update",
            &[
                ("id", &id_s),
                ("version", "1"),
                ("category_id", &cat_s),
                ("title", "Besucherregel"),
                ("body", typed),
                ("status", "planned"),
            ],
            &page,
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    let back = a.headers["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err="), "{back}");
    let back = back.trim_start_matches(&c.base).to_owned();

    // Another session at the same address sees the stored text only.
    let theirs = other.get(&back).await.body;
    assert!(theirs.contains(saved), "{theirs}");
    assert!(!theirs.contains("Besucher tragen sich ein"), "{theirs}");

    let body = c.get(&back).await.body;
    assert!(body.contains("data-test=\"error-summary\""), "{body}");
    assert!(
        body.contains(
            "Besucher tragen sich ein &lt;/textarea&gt;&lt;b&gt;und&lt;/b&gt; werden begleitet."
        ),
        "{body}"
    );
    assert!(!body.contains("<b>und</b>"), "{body}");
    assert!(body.contains(r#"value="Besucherregel""#), "{body}");
    assert!(body.contains("data-test=\"conflict-hint\""), "{body}");
    assert!(
        body.contains("Gespeichert ist inzwischen Version 2"),
        "{body}"
    );
    // Once: the next view of the page shows the stored text again.
    let again = c.get(&back).await.body;
    assert!(!again.contains("Besucher tragen sich ein"), "{again}");
    assert!(again.contains(saved), "{again}");
    // The refused save changed nothing.
    let m = measure(&c, id).await;
    assert_eq!(m.body, saved);

    // Evidence forms stand once per item: only the refused item's form
    // shows what was typed, and the message at its field.
    let first = crate::evidence::upload(
        &c,
        crate::evidence::form(
            id,
            "Protokoll A",
            "",
            "a.pdf",
            crate::evidence::PDF.to_vec(),
        ),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let first: app::evidence::UploadResult = serde_json::from_str(&first.body).unwrap();
    let second = crate::evidence::upload(
        &c,
        crate::evidence::form(
            id,
            "Protokoll B",
            "",
            "b.pdf",
            crate::evidence::PDF.to_vec(),
        ),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let ev = first.evidence_id.to_string();
    let a = c
        .post_form(
            "evidence/update",
            &[
                ("id", &ev),
                ("title", "Protokoll A, neu benannt"),
                ("valid_from", "2026-12-01"),
                ("valid_until", "2026-01-01"),
            ],
            &format!("/massnahmen/{id}"),
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    let back = a.headers["location"].to_str().unwrap().to_owned();
    let body = c.get(back.trim_start_matches(&c.base)).await.body;
    assert!(
        body.contains(r#"value="Protokoll A, neu benannt""#),
        "{body}"
    );
    assert_eq!(
        body.matches("data-test=\"field-error\"").count(),
        1,
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"id="ev-until-{ev}-error""#)),
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"aria-describedby="ev-until-{ev}-error""#)),
        "{body}"
    );

    // A plain form route (the customer's particulars) keeps its fields and
    // check boxes the same way.
    let customer = c
        .call("customers/add", &[("name", "Kanzlei Beispiel")])
        .await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let path = format!("/kunden/{}/angaben", customer.body);
    let res = c
        .http
        .post(format!("{}{path}", c.base))
        .header("Accept", "text/html")
        .form(&[
            ("subject", "Hosting der Website <i>Mandantenportal</i>"),
            ("sub", "999999"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.contains("fehler=") && to.contains("feld=subprocessors"),
        "{to}"
    );
    let page = c.get(&to).await.body;
    assert!(page.contains("data-test=\"error-summary\""), "{page}");
    // The summary leads to the field, which carries the message.
    let field = format!("pa-{}-subprocessors", customer.body);
    assert!(page.contains(&format!(r##"href="#{field}""##)), "{page}");
    assert!(page.contains(&format!(r#"id="{field}-error""#)), "{page}");
    assert!(
        page.contains(&format!(r#"aria-describedby="{field}-error""#)),
        "{page}"
    );
    assert!(
        page.contains("Hosting der Website &lt;i&gt;Mandantenportal&lt;/i&gt;"),
        "{page}"
    );
    let again = c.get(&to).await.body;
    assert!(again.contains("data-test=\"error-summary\""), "{again}");
    assert!(!again.contains("Mandantenportal"), "{again}");

    // A post without a signed-in session keeps nothing: it makes no
    // session row, whatever it sends.
    let sessions = || async {
        use sea_orm::{EntityTrait, PaginatorTrait};
        app::entities::sessions::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    let before = sessions().await;
    let anonymous = app.client();
    let big = "x".repeat(200_000);
    let a = anonymous
        .post_form(
            "toms/measure/update",
            &[
                ("id", &id_s),
                ("version", "1"),
                ("category_id", &cat_s),
                ("title", ""),
                ("body", &big),
                ("status", "planned"),
            ],
            &format!("/massnahmen/{id}?bearbeiten=1"),
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    assert!(a.headers["location"].to_str().unwrap().contains("__err="));
    assert_eq!(sessions().await, before, "an anonymous post made a session");
    app.stop().await;
}
both!(refused_forms_keep_what_was_typed);
