//! The Art. 32 GDPR structure of a TOM annex, as the seed annexes use it, and
//! how headings of existing documents map onto it by meaning.

/// A category of the default catalogue: stable kind, parent kind, German title.
pub struct DefaultCategory {
    pub kind: &'static str,
    pub parent: Option<&'static str>,
    pub title: &'static str,
}

pub const DEFAULT_CATEGORIES: &[DefaultCategory] = &[
    DefaultCategory {
        kind: "pseudonymisierung",
        parent: None,
        title: "Pseudonymisierung",
    },
    DefaultCategory {
        kind: "verschluesselung",
        parent: None,
        title: "Verschlüsselung",
    },
    DefaultCategory {
        kind: "vertraulichkeit",
        parent: None,
        title: "Gewährleistung der Vertraulichkeit",
    },
    DefaultCategory {
        kind: "zutrittskontrolle",
        parent: Some("vertraulichkeit"),
        title: "Zutrittskontrolle",
    },
    DefaultCategory {
        kind: "zugangskontrolle",
        parent: Some("vertraulichkeit"),
        title: "Zugangskontrolle",
    },
    DefaultCategory {
        kind: "zugriffskontrolle",
        parent: Some("vertraulichkeit"),
        title: "Zugriffskontrolle",
    },
    DefaultCategory {
        kind: "trennungskontrolle",
        parent: Some("vertraulichkeit"),
        title: "Trennungskontrolle",
    },
    DefaultCategory {
        kind: "integritaet",
        parent: None,
        title: "Gewährleistung der Integrität",
    },
    DefaultCategory {
        kind: "weitergabekontrolle",
        parent: Some("integritaet"),
        title: "Weitergabekontrolle",
    },
    DefaultCategory {
        kind: "eingabekontrolle",
        parent: Some("integritaet"),
        title: "Eingabekontrolle",
    },
    DefaultCategory {
        kind: "verfuegbarkeit",
        parent: None,
        title: "Gewährleistung der Verfügbarkeit",
    },
    DefaultCategory {
        kind: "belastbarkeit",
        parent: None,
        title: "Gewährleistung der Belastbarkeit der Systeme",
    },
    DefaultCategory {
        kind: "wiederherstellung",
        parent: None,
        title: "Verfahren zur Wiederherstellung der Verfügbarkeit personenbezogener Daten nach einem physischen oder technischen Zwischenfall",
    },
    DefaultCategory {
        kind: "evaluierung",
        parent: None,
        title: "Verfahren regelmäßiger Überprüfung, Bewertung und Evaluierung der Wirksamkeit der technischen und organisatorischen Maßnahmen",
    },
];

/// Keywords per kind, most specific first: a heading that names both a
/// section and its subsection ("Gewährleistung der Vertraulichkeit
/// Zutrittskontrolle") belongs to the subsection; "Wiederherstellung der
/// Verfügbarkeit" is recovery, not availability.
const KEYWORDS: &[(&str, &[&str])] = &[
    (
        "zutrittskontrolle",
        &["zutritt", "physical access", "premises", "entry control"],
    ),
    (
        "zugangskontrolle",
        &[
            "zugangskontrolle",
            "zugangskontroll",
            "system access",
            "logical access",
            "access to systems",
        ],
    ),
    (
        "zugriffskontrolle",
        &[
            "zugriff",
            "data access",
            "access to data",
            "authorisation control",
            "authorization control",
        ],
    ),
    (
        "trennungskontrolle",
        &["trennung", "separation", "segregation", "isolation control"],
    ),
    (
        "weitergabekontrolle",
        &[
            "weitergabe",
            "transfer control",
            "transmission control",
            "disclosure control",
        ],
    ),
    ("eingabekontrolle", &["eingabe", "input control"]),
    (
        "wiederherstellung",
        &["wiederherstell", "recovery", "restore", "restoration"],
    ),
    (
        "evaluierung",
        &[
            "evaluierung",
            "überprüfung",
            "ueberpruefung",
            "wirksamkeit",
            "review",
            "evaluation",
            "assessing the effectiveness",
        ],
    ),
    (
        "belastbarkeit",
        &["belastbarkeit", "resilience", "resilient"],
    ),
    (
        "verfuegbarkeit",
        &["verfügbarkeit", "verfuegbarkeit", "availability"],
    ),
    ("integritaet", &["integrität", "integritaet", "integrity"]),
    ("vertraulichkeit", &["vertraulichkeit", "confidentiality"]),
    (
        "verschluesselung",
        &["verschlüssel", "verschluessel", "encryption"],
    ),
    ("pseudonymisierung", &["pseudonym"]),
];

/// The category kind a heading stands for, if any.
pub fn classify_heading(heading: &str) -> Option<&'static str> {
    let h = heading.to_lowercase();
    // "Access control" alone, as in many English annexes, means system access.
    if h.trim_matches(|c: char| !c.is_alphanumeric())
        .ends_with("access control")
        && !h.contains("physical")
        && !h.contains("data")
    {
        return Some("zugangskontrolle");
    }
    KEYWORDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| h.contains(w)))
        .map(|(kind, _)| *kind)
}

#[cfg(test)]
mod tests {
    use super::classify_heading as c;

    #[test]
    fn seed_headings_map_by_meaning() {
        assert_eq!(
            c("Gewährleistung der Vertraulichkeit Zutrittskontrolle"),
            Some("zutrittskontrolle")
        );
        assert_eq!(
            c("Gewährleistung der Integrität Weitergabekontrolle"),
            Some("weitergabekontrolle")
        );
        assert_eq!(
            c("## 3. Gewährleistung der Vertraulichkeit"),
            Some("vertraulichkeit")
        );
        assert_eq!(c("### 3.2. Zugangskontrolle"), Some("zugangskontrolle"));
        assert_eq!(
            c(
                "Verfahren zur Wiederherstellung der Verfügbarkeit personenbezogener Daten nach einem physischen oder technischen Zwischenfall"
            ),
            Some("wiederherstellung")
        );
        assert_eq!(
            c("Gewährleistung der Verfügbarkeit"),
            Some("verfuegbarkeit")
        );
        assert_eq!(
            c("Gewährleistung der Belastbarkeit der Systeme"),
            Some("belastbarkeit")
        );
        assert_eq!(
            c(
                "Verfahren regelmäßiger Überprüfung, Bewertung und Evaluierung der Wirksamkeit der technischen und organisatorischen Maßnahmen"
            ),
            Some("evaluierung")
        );
        assert_eq!(c("a) Zutrittskontrolle"), Some("zutrittskontrolle"));
        assert_eq!(c("Physical access control"), Some("zutrittskontrolle"));
        assert_eq!(c("Access control"), Some("zugangskontrolle"));
        assert_eq!(c("Input control"), Some("eingabekontrolle"));
        assert_eq!(c("Stand: 01.04.2023"), None);
    }
}
