//! `/kunden` (admins): customers with their AVV and the contacts who are
//! told of every new annex version.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{AddContact, AddCustomer, PARTICULARS, Particulars, RemoveContact, list_customers};
use crate::ids::{CustomerId, SubprocessorId};
use crate::ui::{ErrorView, FieldError, FormError, Loading, Saved, described_by_in, invalid};

#[component]
pub fn CustomersPage() -> impl IntoView {
    let add = ServerAction::<AddCustomer>::new();
    let contact = ServerAction::<AddContact>::new();
    let remove = ServerAction::<RemoveContact>::new();
    let data = Resource::new(
        move || {
            (
                add.version().get(),
                contact.version().get(),
                remove.version().get(),
            )
        },
        |_| list_customers(),
    );
    // The subprocessors to choose from in each customer's particulars.
    let subs = Resource::new(|| (), |_| crate::subprocessors::list_subprocessors());
    // After the particulars' form: `?kunde=ID` with `gespeichert` or `fehler`.
    let query = leptos_router::hooks::use_query_map();
    let answer = move || {
        query.with(|q| {
            let customer = q.get("kunde").and_then(|v| v.parse::<CustomerId>().ok());
            (customer, q.get("gespeichert").is_some())
        })
    };
    view! {
        <Title text="Kunden" />
        <section class="page wide">
            <h1>"Kunden"</h1>
            <p class="lead">
                "Die Verantwortlichen, mit denen ein Auftragsverarbeitungsvertrag besteht. Ihre Kontaktpersonen erhalten bei jeder neuen Fassung der Anlage eine Nachricht mit den Änderungen und dem Link zum Kundenportal."
            </p>
            <FormError value=contact.value() unlinked=true />
            <FormError value=remove.value() unlinked=true />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(list) => {
                            let choices: Vec<(SubprocessorId, String)> = subs
                                .await
                                .map(|l| l.items.into_iter().map(|s| (s.id, s.name)).collect())
                                .unwrap_or_default();
                            let (answered, saved) = answer();
                            view! {
                                {list.is_empty().then(|| view! { <p class="muted">"Noch keine Kunden erfasst."</p> })}
                                {list
                                    .into_iter()
                                    .map(|c| {
                                        let id = c.id;
                                        let here = answered == Some(id);
                                        view! {
                                            <section class="card customer" id=format!("kunde-{id}")>
                                                <h2>{c.name.clone()}</h2>
                                                <p class="muted">
                                                    {avv_line(&c.avv_reference, c.avv_date)}
                                                </p>
                                                <ParticularsPanel
                                                    id
                                                    p=c.particulars.clone()
                                                    choices=choices.clone()
                                                    saved=here && saved
                                                    refused=crate::ui::Refused::in_address().filter(|_| here)
                                                />
                                                <ul>
                                                    {c.contacts
                                                        .into_iter()
                                                        .map(|k| {
                                                            view! {
                                                                <li>
                                                                    {format!(
                                                                        "{} <{}>, Mitteilungen auf {} ",
                                                                        k.name,
                                                                        k.email,
                                                                        if k.locale == "en" { "Englisch" } else { "Deutsch" },
                                                                    )}
                                                                    <crate::ui::Confirm
                                                                        action="entfernen …"
                                                                        consequence=format!("{} ist dann keine Ansprechperson dieses Kunden mehr und erhält keine Mitteilungen mehr.", k.name)
                                                                    >
                                                                        <ActionForm action=remove attr:class="inline">
                                                                            <input type="hidden" name="id" value=k.id.to_string() />
                                                                            <button type="submit" class="link danger">"Ja, entfernen"</button>
                                                                        </ActionForm>
                                                                    </crate::ui::Confirm>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                                <ActionForm action=contact attr:class="form inline-form">
                                                    <input type="hidden" name="customer_id" value=id.to_string() />
                                                    <label for=format!("ct-name-{id}")>"Name"</label>
                                                    <input id=format!("ct-name-{id}") name="name" required pattern=crate::ui::NOT_BLANK />
                                                    <label for=format!("ct-email-{id}")>"E-Mail-Adresse"</label>
                                                    <input id=format!("ct-email-{id}") type="email" name="email" required />
                                                    <label for=format!("ct-locale-{id}")>"Sprache"</label>
                                                    <select id=format!("ct-locale-{id}") name="locale">
                                                        <option value="de" selected>"Deutsch"</option>
                                                        <option value="en">"English"</option>
                                                    </select>
                                                    <button type="submit" class="button">"Kontakt hinzufügen"</button>
                                                </ActionForm>
                                            </section>
                                        }
                                    })
                                    .collect_view()}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
            // Only for whom the list loaded: no form below a refusal.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    data.await
                        .is_ok()
                        .then(|| {
                            view! {
                                <section class="card">
                                    <h2 id="kunde-hinzufuegen">"Kunde hinzufügen"</h2>
                                    <FormError value=add.value() prefix="cu-" />
                                    {move || add.value().with(|v| matches!(v, Some(Ok(_)))).then(|| view! { <Saved text="Kunde hinzugefügt – er steht oben in der Liste." /> })}
                                    <ActionForm action=add attr:class="form">
                                        <label for="cu-name" class="required">"Name"</label>
                                        <input
                                            id="cu-name"
                                            name="name"
                                            value={crate::ui::typed::<AddCustomer>("name", String::new())}
                                            required
                                            pattern=crate::ui::NOT_BLANK
                                            aria-invalid=move || add.value().with(|v| invalid(v, "name")).then_some("true")
                                            aria-describedby=move || add.value().with(|v| described_by_in(v, "cu-", "name"))
                                        />
                                        <FieldError value=add.value() field="name" prefix="cu-" />
                                        <label for="cu-avv_reference">"AVV-Referenz"</label>
                                        <input id="cu-avv_reference" name="avv_reference" value={crate::ui::typed::<AddCustomer>("avv_reference", String::new())} />
                                        <label for="cu-avv_date">"AVV vom"</label>
                                        <input
                                            id="cu-avv_date"
                                            type="date"
                                            name="avv_date"
                                            value={crate::ui::typed::<AddCustomer>("avv_date", String::new())}
                                            aria-invalid=move || add.value().with(|v| invalid(v, "avv_date")).then_some("true")
                                            aria-describedby=move || add.value().with(|v| described_by_in(v, "cu-", "avv_date"))
                                        />
                                        <FieldError value=add.value() field="avv_date" prefix="cu-" />
                                        <button type="submit" class="button primary">"Hinzufügen"</button>
                                    </ActionForm>
                                </section>
                            }
                        })
                })}
            </Suspense>
        </section>
    }
}

/// A customer's particulars of the processing: what is still missing for
/// the AVV offer, and a plain form (the same with and without JavaScript)
/// that comes back here with the confirmation or the error.
#[component]
fn ParticularsPanel(
    id: CustomerId,
    p: Particulars,
    choices: Vec<(SubprocessorId, String)>,
    saved: bool,
    refused: Option<crate::ui::Refused>,
) -> impl IntoView {
    let missing = p.missing();
    let complete = missing.is_empty();
    let open = !complete || refused.is_some();
    let prefix = format!("pa-{id}-");
    let mut targets: Vec<(&'static str, String)> = PARTICULARS
        .iter()
        .map(|(field, _, _)| (*field, format!("{prefix}{field}")))
        .collect();
    targets.push(("subprocessors", format!("{prefix}subprocessors")));
    // After a refused save the form shows what was typed.
    let kept = crate::ui::kept::kept(&format!("/kunden/{id}/angaben"));
    view! {
        {saved.then(|| view! { <Saved text="Angaben gespeichert." /> })}
        {refused.clone().map(|refused| view! { <crate::ui::RefusedSummary refused targets /> })}
        {if complete {
            view! {
                <p class="notice success" data-test="particulars-complete">
                    "Angaben zur Verarbeitung vollständig: Der AVV kann angeboten werden. "
                    <a href=format!("/kunden/{id}/avv-entwurf.pdf") data-test="avv-draft">"AVV-Entwurf ansehen (PDF)"</a>
                    " · "
                    <a href=format!("/avv-abschluss#kunde-{id}")>"Zum AVV-Abschluss"</a>
                </p>
            }
                .into_any()
        } else {
            view! {
                <p class="notice" data-test="particulars-missing">
                    {format!("Für das AVV-Angebot fehlen noch: {}.", missing.join(", "))}
                </p>
            }
                .into_any()
        }}
        <details class="particulars" open=open>
            <summary>"Angaben zur Verarbeitung (AVV)"</summary>
            <form method="post" action=format!("/kunden/{id}/angaben") class="form">
                {PARTICULARS
                    .iter()
                    .map(|(field, label, hint)| {
                        let input_id = format!("{prefix}{field}");
                        let value = kept
                            .as_ref()
                            .and_then(|k| k.get(field))
                            .unwrap_or(p.text(field))
                            .to_owned();
                        let invalid = crate::ui::refused_at(&refused, field);
                        let field_view = if *field == "breach_deadline" {
                            view! {
                                <input
                                    id=input_id.clone()
                                    name=*field
                                    value=value
                                    placeholder=*hint
                                    maxlength="200"
                                    aria-invalid=invalid.then_some("true")
                                    aria-describedby=crate::ui::refused_described_by(&refused, field, &input_id)
                                />
                            }
                                .into_any()
                        } else {
                            view! { <crate::ui::TextArea id=input_id.clone() name=*field rows=2 value placeholder=hint.to_string() invalid /> }.into_any()
                        };
                        view! {
                            <label for=input_id.clone()>{*label}</label>
                            {field_view}
                            <crate::ui::RefusedField refused=refused.clone() field=*field id=input_id />
                        }
                    })
                    .collect_view()}
                <fieldset
                    id=format!("{prefix}subprocessors")
                    tabindex="-1"
                    aria-invalid=crate::ui::refused_at(&refused, "subprocessors").then_some("true")
                    aria-describedby=crate::ui::refused_described_by(&refused, "subprocessors", &format!("{prefix}subprocessors"))
                >
                    <legend>"Unterauftragsverarbeiter, die die Leistungen dieses Kunden nutzen (Anlage 2)"</legend>
                    <crate::ui::RefusedField refused=refused.clone() field="subprocessors" id=format!("{prefix}subprocessors") />
                    {choices.is_empty().then(|| view! { <p class="muted">"Ihre Organisation hat keine Unterauftragsverarbeiter erfasst."</p> })}
                    {choices
                        .into_iter()
                        .map(|(sub, name)| {
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="sub" value=sub.to_string() checked=kept.as_ref().map_or(p.subprocessors.contains(&sub), |k| k.all("sub").contains(&sub.to_string().as_str())) />
                                    " "
                                    {name}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <button type="submit" class="button primary">"Angaben speichern"</button>
            </form>
        </details>
    }
}

/// "Vertrag AVV-2024-013 vom 01.03.2025": the reference once (it often
/// starts with "AVV" itself), the date in German.
fn avv_line(reference: &str, date: Option<chrono::NaiveDate>) -> String {
    let reference = reference.trim();
    let date = date.map(|d| format!("vom {}", crate::format::german_date(d)));
    match (reference.is_empty(), date) {
        (true, None) => "Kein AVV-Aktenzeichen erfasst".to_owned(),
        (true, Some(d)) => format!("AVV {d}"),
        (false, d) => {
            let lead = if reference.to_uppercase().starts_with("AVV") {
                "Vertrag"
            } else {
                "AVV"
            };
            format!(
                "{lead} {reference}{}",
                d.map(|d| format!(" {d}")).unwrap_or_default()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::avv_line;

    #[test]
    fn the_contract_is_named_once_with_a_german_date() {
        let d = chrono::NaiveDate::from_ymd_opt(2025, 3, 1);
        assert_eq!(
            avv_line("AVV-2024-013", d),
            "Vertrag AVV-2024-013 vom 01.03.2025"
        );
        assert_eq!(avv_line("K-17", None), "AVV K-17");
        assert_eq!(avv_line("", d), "AVV vom 01.03.2025");
    }
}
