//! Server-rendered pages: HTML with the hydration script, health, 404.

use app::domain::Role;
use reqwest::StatusCode;

use crate::both;
use crate::helpers::*;

async fn pages_render_on_the_server(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();

    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);

    let login = c.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("<html lang=\"de\""));
    assert!(
        login.body.contains("/pkg/nachweis.js"),
        "hydration script missing"
    );
    assert!(login.body.contains("name=\"password\""));
    assert_eq!(login.headers["x-content-type-options"], "nosniff");

    // Not signed in: the start page sends you to the login.
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::FOUND);
    assert!(
        home.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    c.login_ok(&org.email(Role::Admin)).await;
    let cat = c.get("/massnahmen").await;
    assert_eq!(cat.status, StatusCode::OK);
    assert!(cat.body.contains("3.1 Zutrittskontrolle"));
    // The navigation marks where you are, and only there.
    // (Without Leptos' markers between text nodes.)
    assert!(
        cat.body
            .replace("<!>", "")
            .contains(r#"<a href="/massnahmen" aria-current="page">Maßnahmen</a>"#),
        "the current page is marked"
    );
    // (The catalogue's filter chips mark theirs with `aria-current="true"`.)
    assert_eq!(cat.body.matches(r#"aria-current="page""#).count(), 1);

    let missing = c.get("/gibt-es-nicht").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Seite nicht gefunden"));
    // A page whose subject does not exist answers 404, not 200 with an error.
    let missing = c.get("/massnahmen/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("wurde nicht gefunden"));
    let missing = c.get("/massnahmen/keine-zahl").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // A page the role may not use answers 403, and shows none of its forms.
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    for path in [
        "/mitglieder",
        "/kunden",
        "/protokoll",
        "/postausgang",
        "/avv",
    ] {
        let page = staff.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!page.body.contains("<form class=\"form"), "{path}: a form");
    }
    // A page it may use still answers 200, even when a panel on it is not
    // for this role.
    assert_eq!(
        staff.get("/unterauftragsverarbeiter").await.status,
        StatusCode::OK
    );
    assert_eq!(staff.get("/massnahmen").await.status, StatusCode::OK);
    app.stop().await;
}
both!(pages_render_on_the_server);

/// Sends `path` with `accept` as Accept-Encoding: (status, headers, raw body).
async fn fetch(
    c: &Client,
    path: &str,
    accept: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = c.http.get(format!("{}{path}", c.base));
    if let Some(a) = accept {
        req = req.header("Accept-Encoding", a);
    }
    let res = req.send().await.unwrap();
    (
        res.status(),
        res.headers().clone(),
        res.bytes().await.unwrap().to_vec(),
    )
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// The WebAssembly goes out as the brotli or gzip copy the build made, pages
/// are compressed on the way, PDFs are not; a client that asks for nothing
/// gets the bytes as they are.
async fn responses_are_compressed_for_clients_that_accept_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    let header = |h: &reqwest::header::HeaderMap, name: &str| {
        h.get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };

    let wasm = "/pkg/nachweis.wasm";
    let (status, plain_h, plain) = fetch(&c, wasm, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&plain_h, "content-encoding"), "");
    assert_eq!(header(&plain_h, "vary"), "accept-encoding");
    assert!(plain.starts_with(b"\0asm"), "the WebAssembly itself");
    let (_, br_h, br) = fetch(&c, wasm, Some("gzip, deflate, br, zstd")).await;
    assert_eq!(header(&br_h, "content-encoding"), "br");
    assert_eq!(header(&br_h, "content-type"), "application/wasm");
    assert!(
        br.len() * 3 < plain.len(),
        "{} of {} bytes",
        br.len(),
        plain.len()
    );
    assert_ne!(header(&br_h, "etag"), header(&plain_h, "etag"));
    let (_, gz_h, gz) = fetch(&c, wasm, Some("gzip")).await;
    assert_eq!(header(&gz_h, "content-encoding"), "gzip");
    assert_eq!(gunzip(&gz), plain, "the gzip copy is the same file");
    // Revalidation of the compressed copy costs a 304, as for the plain one.
    let res = c
        .http
        .get(format!("{}{wasm}", c.base))
        .header("Accept-Encoding", "br")
        .header("If-None-Match", header(&br_h, "etag"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // A page: compressed on the way when asked for, plain otherwise.
    let (status, h, body) = fetch(&c, "/login", Some("gzip")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-encoding"), "gzip");
    let page = String::from_utf8(gunzip(&body)).unwrap();
    assert!(page.contains("<form"), "{page}");
    let (_, h, body) = fetch(&c, "/login", None).await;
    assert_eq!(header(&h, "content-encoding"), "");
    assert!(String::from_utf8(body).unwrap().contains("<form"));

    // A PDF is compressed already: sent as it is.
    c.login_ok(&org.email(Role::Admin)).await;
    let (status, h, body) = fetch(&c, "/anlage/entwurf.pdf", Some("gzip, br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-encoding"), "");
    assert!(body.starts_with(b"%PDF-"));
    app.stop().await;
}
both!(responses_are_compressed_for_clients_that_accept_it);

/// Pages are islands: the HTML carries no hydration of the page itself,
/// only the few interactive parts. Without JavaScript (and, the same, with
/// it outside an island) a form posts, the server leads back to the page,
/// and the page confirms what happened from what is stored.
async fn forms_come_back_to_a_page_that_confirms_them(backend: Backend) {
    use crate::catalogue::{catalogue, category_id, create};

    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let id = create(
        &c,
        category_id(&cat, "3.1"),
        "Besucher werden am Empfang registriert.",
    )
    .await;

    // The measure page: the upload form is an island, the rest is HTML.
    let page = c.get(&format!("/massnahmen/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body.matches("<leptos-island").count(),
        1,
        "one island: the upload"
    );
    assert!(
        page.body.contains(r#"data-component="UploadForm_"#),
        "the upload is an island"
    );
    // The catalogue has no island at all, and no hydration data.
    let list = c.get("/massnahmen").await;
    assert!(!list.body.contains("<leptos-island"));
    // Leptos' hydration data stays empty: no resource is sent twice.
    let data = &list.body[list
        .body
        .find("__RESOLVED_RESOURCES=[")
        .expect("the data script")..];
    assert!(
        data.starts_with("__RESOLVED_RESOURCES=[];"),
        "{}",
        &data[..data.len().min(200)]
    );

    // Publishing leads to the annex page, which names the new version.
    let a = c.post_form("annex/publish", &[], "/anlage").await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    assert_eq!(a.headers["location"], "/anlage?veroeffentlicht=1");
    let back = c.get("/anlage?veroeffentlicht=1").await;
    let status = &back.body[back.body.find(r#"role="status""#).expect("a confirmation")..];
    assert!(status.contains("Version 1 mit Stand"), "{status}");
    // A version that does not exist is not confirmed.
    let other = c.get("/anlage?veroeffentlicht=7").await;
    assert!(!other.body.contains("Version 7 mit Stand"));

    // Saving the profile comes back with "Gespeichert.".
    let a = c
        .post_form(
            "orgs/profile/update",
            &[
                ("legal_name", "Acme Hosting GmbH"),
                ("display_short", "Acme"),
                ("address", ""),
                ("dpo_contact", ""),
                ("intro_text", "Acme verarbeitet Daten im Auftrag."),
            ],
            "/organisation",
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    assert_eq!(a.headers["location"], "/organisation?gespeichert=1");
    let saved = c.get("/organisation?gespeichert=1").await;
    assert!(saved.body.contains("Gespeichert."));
    assert!(!c.get("/organisation").await.body.contains("Gespeichert."));
    app.stop().await;
}
both!(forms_come_back_to_a_page_that_confirms_them);
