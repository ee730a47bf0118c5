//! Annex rendering and signing speed: `cargo bench -p server --bench annex`.
//!
//! Prints the cold time (first render in the process: fonts, Typst library)
//! and the median of warm runs, for render alone and render + sign, for the
//! ConRat demo annex and for a synthetic 300-measure catalogue. Each warm run
//! changes one measure text, as an edit followed by a preview would, so
//! Typst's memoisation cannot replay a finished document.

use std::time::{Duration, Instant};

use app::annex::{AnnexData, AnnexSection};
use app::pdf::sign::{SignatureDetails, SigningIdentity, generate_self_signed, sign_pdf};
use app::toms::art32::DEFAULT_CATEGORIES;

const WARM_RUNS: usize = 30;

/// Sections in catalogue order with numbers, as the app builds them.
fn annex(intro: Vec<String>, measures: &[(&str, String)]) -> AnnexData {
    let mut sections = Vec::new();
    let (mut top, mut sub) = (0, 0);
    for c in DEFAULT_CATEGORIES {
        let number = match c.parent {
            None => {
                top += 1;
                sub = 0;
                top.to_string()
            }
            Some(_) => {
                sub += 1;
                format!("{top}.{sub}")
            }
        };
        sections.push(AnnexSection {
            number,
            title: c.title.to_owned(),
            level: if c.parent.is_some() { 2 } else { 1 },
            measures: measures
                .iter()
                .filter(|(k, _)| *k == c.kind)
                .map(|(_, t)| t.clone())
                .collect(),
            reviewed: None,
        });
    }
    AnnexData {
        org_name: "ConRat WebSolutions GmbH".into(),
        display_short: "ConRat".into(),
        intro,
        sections,
        stand: "23.11.2026".into(),
        version: Some(1),
        draft: false,
        audit_anchor: None,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn bench(name: &str, data: &AnnexData, identity: &SigningIdentity) {
    let details = SignatureDetails {
        signer_name: data.org_name.clone(),
        reason: "Anlage TOM zum AVV".into(),
        location: "Musterstadt".into(),
        time: chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
    };
    let edited = |i: usize| {
        let mut d = data.clone();
        if let Some(s) = d.sections.iter_mut().find(|s| !s.measures.is_empty()) {
            s.measures[0].push_str(&format!(" (Überarbeitung {i})"));
        }
        d
    };
    let mut render = Vec::new();
    let mut both = Vec::new();
    let mut size = 0;
    for i in 0..=WARM_RUNS {
        let d = edited(i);
        let t = Instant::now();
        let pdf = app::annex::render::render_pdf(&d).expect("render");
        let rendered = t.elapsed();
        let signed = sign_pdf(&pdf, identity, &details).expect("sign");
        let total = t.elapsed();
        size = signed.len();
        if i == 0 {
            println!(
                "{name}: cold render {}, cold render+sign {}",
                ms(rendered),
                ms(total)
            );
        } else {
            render.push(rendered);
            both.push(total);
        }
    }
    println!(
        "{name}: warm median render {}, render+sign {} ({WARM_RUNS} runs, {} KB signed PDF)",
        ms(median(render)),
        ms(median(both)),
        size / 1024
    );
}

fn main() {
    let seed = server::demo::parse_annex(include_str!("../demo/conrat.txt"));
    let demo = annex(seed.intro.clone(), &seed.sections);
    let mut many = Vec::new();
    for i in 0..300 {
        let (kind, text) = &seed.sections[i % seed.sections.len()];
        many.push((*kind, format!("{text} (Maßnahme {})", i + 1)));
    }
    let large = annex(seed.intro.clone(), &many);
    let (identity, _) = generate_self_signed(
        "ConRat WebSolutions GmbH",
        chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    )
    .expect("key");
    bench(
        &format!("demo annex (ConRat, {} measures)", seed.sections.len()),
        &demo,
        &identity,
    );
    bench("300-measure catalogue", &large, &identity);
}
