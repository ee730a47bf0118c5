//! Publishing the annex: the demo annexes against their seed documents, the
//! signature checked by poppler's `pdfsig` and by `nachweis annex verify`,
//! immutability, change lists, authorisation and failure without leftovers.

use std::path::Path;
use std::process::Command;

use app::domain::Role;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::helpers::*;

/// `pdftotext -layout` with page furniture removed and whitespace collapsed.
pub fn annex_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("annex.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut kept = Vec::new();
    for line in text.lines() {
        // The footer: "<organisation>      Seite 2/4".
        let t = line.trim();
        if let Some((_, page)) = t.rsplit_once("Seite ")
            && page.split('/').all(|n| n.parse::<u32>().is_ok())
        {
            continue;
        }
        kept.push(line);
    }
    normalise(&kept.join("\n"))
}

/// Joins hyphenated words, unifies quotes and collapses whitespace.
pub fn normalise(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{ad}' {
            // A soft hyphen at a line end: the word continues on the next line.
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            continue;
        }
        s.push(match c {
            '„' | '“' | '”' => '"',
            '\u{a0}' => ' ',
            c => c,
        });
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The seed as (is_heading, text) items, from the copy shipped with the demo.
pub fn seed_items(file: &str) -> Vec<(bool, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo")
            .join(file),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut items = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        // The document title (ours is fixed by the issue), the old "Stand:"
        // (a publication has its own) and the cookie banner the seed was
        // scraped with are not annex content.
        if i == 0 || t.starts_with("# ") || t.starts_with("Stand:") || t.contains("Cookie") {
            continue;
        }
        if let Some(h) = t.strip_prefix("### ").or_else(|| t.strip_prefix("## ")) {
            items.push((true, h.to_owned()));
        } else if lines.get(i + 1).is_some_and(|next| !next.trim().is_empty()) {
            // Plain-text seed: a heading is a line directly followed by its paragraph.
            items.push((true, t.to_owned()));
        } else {
            items.push((false, t.to_owned()));
        }
    }
    items
}

/// Asserts every item occurs in order, whitespace aside; paragraphs exactly once.
pub fn assert_in_order(pdf_text: &str, items: &[(bool, String)], numbered: bool) {
    let words: Vec<&str> = pdf_text.split(' ').collect();
    let is_number = |w: &str| {
        w.len() > 1
            && w.ends_with('.')
            && w.trim_end_matches('.')
                .split('.')
                .all(|n| n.parse::<u32>().is_ok())
    };
    // Plain-text seeds have no section numbers: compare their headings
    // without ours ("3.1." before a capitalised heading word; a number in
    // running text such as "unter 5. genannten" stays).
    let kept: Vec<&str> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| {
            numbered
                || !(is_number(w)
                    && words
                        .get(i + 1)
                        .is_some_and(|next| next.starts_with(char::is_uppercase)))
        })
        .map(|(_, w)| *w)
        .collect();
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let text = squeeze(&kept.join(" "));
    let mut at = 0;
    for (heading, item) in items {
        let want = squeeze(&normalise(item));
        let found = text[at..].find(&want).unwrap_or_else(|| {
            panic!(
                "{} {item:?} missing or out of order after byte {at} in:\n{pdf_text}",
                if *heading { "heading" } else { "paragraph" }
            )
        });
        at += found + want.len();
        if !heading {
            assert_eq!(text.matches(&want).count(), 1, "duplicated: {item:?}");
        }
    }
}

/// `pdfsig` on a file: (signature valid, whole document signed, output).
pub fn pdfsig(pdf: &[u8]) -> (bool, bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfsig")
        .arg(&path)
        .output()
        .expect("pdfsig (poppler-utils)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (
        text.contains("Signature Validation: Signature is Valid."),
        text.contains("Total document signed"),
        text,
    )
}

/// `nachweis annex verify` as a separate process: (exit code, output).
fn cli_verify(db: &TestDb, pdf: &[u8]) -> (i32, String) {
    let path = db.dir.path().join("to-verify.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nachweis"))
        .arg("--data-dir")
        .arg(db.dir.path())
        .arg("--database-url")
        .arg(&db.url)
        .args(["annex", "verify"])
        .arg(&path)
        .env("NACHWEIS_LOG", "error")
        .output()
        .expect("nachweis binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn publish(c: &Client) -> Answer {
    c.call("annex/publish", &[]).await
}

async fn download(c: &Client, version: i32) -> Vec<u8> {
    let res = c
        .http
        .get(format!("{}/anlage/v{version}.pdf", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    res.bytes().await.unwrap().to_vec()
}

async fn demo_annexes_read_like_their_seeds_and_are_validly_signed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    server::demo::load(&app.db, app::state::Clock::now(&*app.clock))
        .await
        .unwrap();
    for (dpo, seed, numbered) in [
        ("dpo@conrat.example", "conrat.txt", false),
        ("dpo@clickbits.example", "clickbits.md", true),
    ] {
        let c = app.client();
        c.login(dpo, server::demo::DEMO_PASSWORD).await;
        let a = publish(&c).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let pdf = download(&c, 1).await;

        let text = annex_text(&pdf);
        assert!(text.contains("Technische und organisatorische Maßnahmen nach Art. 32 DSGVO"));
        assert!(text.contains("Version 1"), "{text}");
        assert!(!text.contains("ENTWURF"));
        assert_in_order(&text, &seed_items(seed), numbered);

        let (valid, whole, out) = pdfsig(&pdf);
        assert!(valid && whole, "pdfsig on {seed}:\n{out}");
        assert!(out.contains("ETSI.CAdES.detached"), "{out}");
        let (code, said) = cli_verify(&db, &pdf);
        assert_eq!(code, 0, "{said}");
        assert!(said.contains("This is version 1"), "{said}");

        // One flipped byte inside the signed range: both verifiers object.
        let mut tampered = pdf.clone();
        let i = tampered.len() / 3;
        tampered[i] ^= 0x01;
        let (valid, _, out) = pdfsig(&tampered);
        assert!(!valid, "pdfsig accepted a modified file:\n{out}");
        let (code, said) = cli_verify(&db, &tampered);
        assert_eq!(code, 1, "{said}");
        assert!(said.contains("INVALID"), "{said}");
    }
    app.stop().await;
}
both!(demo_annexes_read_like_their_seeds_and_are_validly_signed);

async fn publications_are_immutable_and_changes_are_listed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let k31 = category_id(&cat, "3.1");
    let k = k31.to_string();
    let mut ids = Vec::new();
    for body in ["Türen sind verschlossen.", "Besucher werden begleitet."] {
        ids.push(create(&c, k31, body).await.to_string());
    }
    let first = publish(&c).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let v1: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(v1["version"], 1);
    let v1_pdf = download(&c, 1).await;

    // Nothing changed: refused, and nothing stored.
    let again = publish(&c).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("nichts geändert"), "{}", again.body);
    let overview = c.call("annex/overview", &[]).await;
    let o: serde_json::Value = serde_json::from_str(&overview.body).unwrap();
    assert_eq!(o["unchanged"], true);
    assert_eq!(o["publications"].as_array().unwrap().len(), 1);

    // Change one, retire one, add one: the overview lists each with its texts.
    let detail = c.call("toms/measure", &[("id", &ids[0])]).await;
    let m: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
    let version = m["version"].to_string();
    let a = c
        .call(
            "toms/measure/update",
            &[
                ("id", &ids[0]),
                ("version", &version),
                ("category_id", &k),
                ("title", ""),
                ("body", "Türen sind verschlossen und alarmgesichert."),
                ("status", "implemented"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = c.call("toms/measure/retire", &[("id", &ids[1])]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let k2 = category_id(&cat, "5");
    create(&c, k2, "Backups täglich.").await;

    let overview = c.call("annex/overview", &[]).await;
    let o: serde_json::Value = serde_json::from_str(&overview.body).unwrap();
    assert_eq!(o["unchanged"], false);
    let changes = o["changes"].as_array().unwrap();
    let kinds: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|ch| {
            (
                ch["kind"].as_str().unwrap(),
                ch["old_text"].as_str().unwrap_or(""),
                ch["new_text"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(
            "Changed",
            "Türen sind verschlossen.",
            "Türen sind verschlossen und alarmgesichert."
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("Removed", "Besucher werden begleitet.", "")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("Added", "", "Backups täglich.")),
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 3, "{kinds:?}");

    let second = publish(&c).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let v2: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(v2["version"], 2);
    // Version 1 is still there, byte for byte, and says what it said.
    assert_eq!(download(&c, 1).await, v1_pdf);
    let text = annex_text(&v1_pdf);
    assert!(text.contains("Besucher werden begleitet."));
    assert!(!text.contains("alarmgesichert"));
    let text2 = annex_text(&download(&c, 2).await);
    assert!(text2.contains("alarmgesichert") && !text2.contains("Besucher werden"));
    assert!(text2.contains("Version 2"));
    app.stop().await;
}
both!(publications_are_immutable_and_changes_are_listed);

async fn only_admins_publish_and_customers_see_no_drafts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&admin).await;
    let k = category_id(&cat, "2");
    create(&admin, k, "TLS überall.").await;

    let anon = app.client();
    assert_eq!(publish(&anon).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anon.call("annex/overview", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    for (role, overview) in [
        (Role::Owner, StatusCode::OK),
        (Role::Auditor, StatusCode::OK),
        (Role::Staff, StatusCode::FORBIDDEN),
        (Role::Customer, StatusCode::FORBIDDEN),
    ] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        assert_eq!(publish(&c).await.status, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(
            c.call("annex/overview", &[]).await.status,
            overview,
            "{role:?}"
        );
    }
    assert_eq!(publish(&admin).await.status, StatusCode::OK);
    // Another organisation's admin neither sees nor downloads it.
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Admin)).await;
    let res = stranger.get("/anlage/v1.pdf").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    assert_eq!(
        customer.get("/anlage/v1.pdf").await.status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}
both!(only_admins_publish_and_customers_see_no_drafts);

async fn configured_certificate_signs_and_a_broken_key_publishes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let k = category_id(&cat, "2");
    let body = r#"Sonderzeichen bleiben Text: #set page(fill: red) $x^2$ *fett* _kursiv_ @ref <label> \ \" // kein Kommentar ]"#;
    create(&c, k, body).await;

    // An unreadable key: a clear refusal, and no version, row or audit entry.
    let dir = &app.config.signing_dir;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("acme.key.pem"), "not a key").unwrap();
    std::fs::write(dir.join("acme.chain.pem"), "not a certificate").unwrap();
    let a = publish(&c).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert!(a.body.contains("Signaturschlüssel"), "{}", a.body);
    assert_eq!(
        app::entities::publications::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    let log = c.call("audit/list", &[("filter[entity]", "annex")]).await;
    assert!(!log.body.contains("publish"), "{}", log.body);

    // A real certificate from the operator (made with openssl) is used as is.
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=Acme Signaturdienst/O=Acme GmbH"])
        .arg("-keyout")
        .arg(dir.join("acme.key.pem"))
        .arg("-out")
        .arg(dir.join("acme.chain.pem"))
        .output()
        .expect("openssl");
    assert!(status.status.success(), "{status:?}");
    let a = publish(&c).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let info: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(info["self_signed"], false);
    let pdf = download(&c, 1).await;
    let (valid, whole, out) = pdfsig(&pdf);
    assert!(valid && whole, "{out}");
    assert!(out.contains("Acme Signaturdienst"), "{out}");
    let text = annex_text(&pdf);
    assert!(
        text.contains(&normalise(body)),
        "markup was interpreted:\n{text}"
    );
    app.stop().await;
}
both!(configured_certificate_signs_and_a_broken_key_publishes_nothing);

async fn pkcs12_certificate_signs_and_a_wrong_password_is_named(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let k = category_id(&cat, "2");
    create(&c, k, "Alle Verbindungen sind mit TLS 1.3 verschlüsselt.").await;

    // A P-256 key and certificate exported as PKCS#12, as a CA would deliver it.
    let dir = &app.config.signing_dir;
    std::fs::create_dir_all(dir).unwrap();
    let work = tempfile::tempdir().unwrap();
    let (key, cert) = (work.path().join("k.pem"), work.path().join("c.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=Acme PKCS12/O=Acme GmbH",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");
    let out = Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:Geheim Passwort"])
        .arg("-inkey")
        .arg(&key)
        .arg("-in")
        .arg(&cert)
        .arg("-out")
        .arg(dir.join("acme.p12"))
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");

    // Every wrong password is named as one. Decrypting alone tells a wrong
    // password by the padding, which about one wrong password in 256
    // passes; that one then failed as a damaged file ("safe bags: incorrect
    // length"), and so did this test now and then. The MAC decides now.
    let p12 = std::fs::read(dir.join("acme.p12")).unwrap();
    for i in 0..1000 {
        let wrong = format!("falsch {i}");
        let e = app::pdf::sign::SigningIdentity::from_pkcs12(&p12, &wrong)
            .err()
            .unwrap_or_else(|| panic!("{wrong:?} opened the file"));
        assert!(e.to_string().contains("wrong password"), "{wrong:?}: {e}");
    }
    assert!(app::pdf::sign::SigningIdentity::from_pkcs12(&p12, "Geheim Passwort").is_ok());

    std::fs::write(dir.join("acme.p12.password"), "falsch\n").unwrap();
    let a = publish(&c).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert!(a.body.contains("wrong password"), "{}", a.body);
    assert!(
        !a.body.contains("falsch"),
        "the password leaked: {}",
        a.body
    );

    std::fs::write(dir.join("acme.p12.password"), "Geheim Passwort\n").unwrap();
    let a = publish(&c).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let pdf = download(&c, 1).await;
    let (valid, whole, out) = pdfsig(&pdf);
    assert!(valid && whole, "{out}");
    assert!(out.contains("Acme PKCS12"), "{out}");
    app.stop().await;
}
both!(pkcs12_certificate_signs_and_a_wrong_password_is_named);

async fn a_draft_that_cannot_be_pdfa_is_flagged_before_publishing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let k = category_id(&cat, "5");
    create(&c, k, "Backups werden täglich geprüft.").await;
    let o: serde_json::Value =
        serde_json::from_str(&c.call("annex/overview", &[]).await.body).unwrap();
    assert!(o["pdfa_problem"].is_null(), "{o}");

    // No bundled font has this glyph, and PDF/A forbids a missing one.
    create(&c, k, "Notfallübung bestanden \u{1F680}").await;
    let o: serde_json::Value =
        serde_json::from_str(&c.call("annex/overview", &[]).await.body).unwrap();
    assert!(o["pdfa_problem"].is_string(), "{o}");
    let a = publish(&c).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let info: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(info["pdfa"], false);
    let (valid, whole, out) = pdfsig(&download(&c, 1).await);
    assert!(valid && whole, "{out}");
    app.stop().await;
}
both!(a_draft_that_cannot_be_pdfa_is_flagged_before_publishing);
