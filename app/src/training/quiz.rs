//! A course's source: Markdown content, a line `---quiz---`, then the
//! questions. `? ` starts a single-choice question, `?? ` a multiple-choice
//! one; each option is `- [x] …` (correct) or `- [ ] …`. Pure functions:
//! parsing, shuffling an attempt's layout, scoring.

use serde::{Deserialize, Serialize};

pub const QUIZ_MARKER: &str = "---quiz---";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizOption {
    pub text: String,
    pub correct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    pub multiple: bool,
    pub options: Vec<QuizOption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    /// Markdown before the quiz.
    pub content: String,
    pub questions: Vec<Question>,
}

/// Parses and checks a course source; the error names the line.
pub fn parse(source: &str) -> Result<Course, String> {
    let source = source.replace("\r\n", "\n");
    let Some((content, quiz)) = source.split_once(&format!("\n{QUIZ_MARKER}\n")) else {
        return Err(format!(
            "Der Test fehlt: Nach dem Inhalt muss eine Zeile „{QUIZ_MARKER}“ folgen und danach die Fragen."
        ));
    };
    if content.trim().is_empty() {
        return Err("Der Kurs hat keinen Inhalt vor dem Test.".into());
    }
    let first_line = content.lines().count() + 2;
    let mut questions: Vec<Question> = Vec::new();
    for (i, raw) in quiz.lines().enumerate() {
        let n = first_line + i;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(q) = line.strip_prefix("?? ") {
            questions.push(Question {
                text: q.trim().to_owned(),
                multiple: true,
                options: Vec::new(),
            });
        } else if let Some(q) = line.strip_prefix("? ") {
            questions.push(Question {
                text: q.trim().to_owned(),
                multiple: false,
                options: Vec::new(),
            });
        } else if let Some((correct, text)) = line
            .strip_prefix("- [x] ")
            .or_else(|| line.strip_prefix("- [X] "))
            .map(|t| (true, t))
            .or_else(|| line.strip_prefix("- [ ] ").map(|t| (false, t)))
        {
            let Some(q) = questions.last_mut() else {
                return Err(format!("Zeile {n}: Antwort ohne Frage davor."));
            };
            q.options.push(QuizOption {
                text: text.trim().to_owned(),
                correct,
            });
        } else {
            return Err(format!(
                "Zeile {n}: „{line}“ ist weder eine Frage („? …“ oder „?? …“) noch eine Antwort („- [x] …“ oder „- [ ] …“)."
            ));
        }
    }
    if questions.is_empty() {
        return Err("Der Test hat keine Fragen.".into());
    }
    for (i, q) in questions.iter().enumerate() {
        let correct = q.options.iter().filter(|o| o.correct).count();
        let label = format!("Frage {} („{}“)", i + 1, q.text);
        if q.text.is_empty() {
            return Err(format!("Frage {} hat keinen Text.", i + 1));
        }
        if q.options.len() < 2 {
            return Err(format!("{label} braucht mindestens zwei Antworten."));
        }
        if !q.multiple && correct != 1 {
            return Err(format!(
                "{label} ist eine Einfachauswahl und braucht genau eine richtige Antwort ([x])."
            ));
        }
        if q.multiple && correct == 0 {
            return Err(format!(
                "{label} braucht mindestens eine richtige Antwort ([x])."
            ));
        }
    }
    Ok(Course {
        content: content.trim().to_owned(),
        questions,
    })
}

/// The order in which one attempt shows questions and their options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Original question indexes in display order.
    pub questions: Vec<usize>,
    /// Per original question: original option indexes in display order.
    pub options: Vec<Vec<usize>>,
}

/// A fresh random layout for `questions`.
#[cfg(feature = "ssr")]
pub fn shuffle(questions: &[Question]) -> Layout {
    use rand::seq::SliceRandom;
    let mut rng = rand::thread_rng();
    let mut order: Vec<usize> = (0..questions.len()).collect();
    order.shuffle(&mut rng);
    Layout {
        questions: order,
        options: questions
            .iter()
            .map(|q| {
                let mut o: Vec<usize> = (0..q.options.len()).collect();
                o.shuffle(&mut rng);
                o
            })
            .collect(),
    }
}

/// One point per question answered exactly right: the chosen options are
/// the correct ones, no more, no fewer. `answers[i]` are the options chosen
/// for question `i` (original numbering).
pub fn score(questions: &[Question], answers: &[Vec<usize>]) -> u32 {
    questions
        .iter()
        .enumerate()
        .filter(|(i, q)| {
            let mut chosen: Vec<usize> = answers.get(*i).cloned().unwrap_or_default();
            chosen.sort_unstable();
            chosen.dedup();
            let correct: Vec<usize> = q
                .options
                .iter()
                .enumerate()
                .filter(|(_, o)| o.correct)
                .map(|(j, _)| j)
                .collect();
            chosen == correct
        })
        .count() as u32
}

/// Passed when the score reaches the pass mark (in percent), boundary included.
pub fn passed(score: u32, max: u32, pass_percent: u32) -> bool {
    max > 0 && score * 100 >= pass_percent * max
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "# Kurs\n\nInhalt.\n\n---quiz---\n\n? Eins?\n- [x] ja\n- [ ] nein\n\n?? Zwei?\n- [x] a\n- [ ] b\n- [x] c\n";

    #[test]
    fn parses_questions_and_options() {
        let c = parse(SRC).unwrap();
        assert_eq!(c.content, "# Kurs\n\nInhalt.");
        assert_eq!(c.questions.len(), 2);
        assert!(!c.questions[0].multiple && c.questions[1].multiple);
        assert_eq!(c.questions[1].options.len(), 3);
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(parse("nur Inhalt").unwrap_err().contains("---quiz---"));
        let e = parse("x\n---quiz---\n? Eins?\n- [x] a\n- [x] b\n").unwrap_err();
        assert!(e.contains("genau eine richtige"), "{e}");
        let e = parse("x\n---quiz---\n? Eins?\n- [x] a\nirgendwas\n").unwrap_err();
        assert!(e.contains("Zeile 5"), "{e}");
        let e = parse("x\n---quiz---\n?? Eins?\n- [ ] a\n- [ ] b\n").unwrap_err();
        assert!(e.contains("mindestens eine richtige"), "{e}");
    }

    #[test]
    fn scoring_needs_exactly_the_correct_options() {
        let c = parse(SRC).unwrap();
        assert_eq!(score(&c.questions, &[vec![0], vec![0, 2]]), 2);
        assert_eq!(
            score(&c.questions, &[vec![0], vec![2, 0, 0]]),
            2,
            "order and repeats do not matter"
        );
        assert_eq!(
            score(&c.questions, &[vec![0], vec![0]]),
            1,
            "one correct option missing"
        );
        assert_eq!(
            score(&c.questions, &[vec![0, 1], vec![0, 1, 2]]),
            0,
            "extra options"
        );
        assert_eq!(score(&c.questions, &[]), 0);
    }

    #[test]
    fn the_pass_mark_holds_at_the_boundary() {
        assert!(passed(8, 10, 80));
        assert!(!passed(7, 10, 80));
        assert!(passed(12, 15, 80), "exactly 80 %");
        assert!(!passed(11, 15, 80), "73 %");
        assert!(!passed(0, 0, 0));
    }

    #[test]
    fn the_base_course_parses_with_enough_questions() {
        let c = parse(include_str!("grundschulung.md")).unwrap();
        assert!(c.questions.len() >= 12, "{}", c.questions.len());
        for topic in ["Art. 5", "Datenpanne", "Passw", "zu Hause", "Rechte"] {
            assert!(c.content.contains(topic), "{topic}");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_layout_is_a_permutation() {
        let c = parse(include_str!("grundschulung.md")).unwrap();
        let l = shuffle(&c.questions);
        let mut q = l.questions.clone();
        q.sort_unstable();
        assert_eq!(q, (0..c.questions.len()).collect::<Vec<_>>());
        for (i, o) in l.options.iter().enumerate() {
            let mut o = o.clone();
            o.sort_unstable();
            assert_eq!(o, (0..c.questions[i].options.len()).collect::<Vec<_>>());
        }
    }
}
