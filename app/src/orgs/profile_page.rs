//! The organisation profile: the names and texts the annex starts with.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{OrgProfile, UpdateProfile, get_profile};
use crate::ui::{ErrorView, FieldError, FormError, Loading, Paragraphs, invalid};

#[component]
pub fn ProfilePage() -> impl IntoView {
    let update = ServerAction::<UpdateProfile>::new();
    let data = Resource::new(move || update.version().get(), |_| get_profile());
    view! {
        <Title text="Organisation" />
        <section class="page narrow">
            <h1>"Organisation"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(p) if p.can_edit => view! { <ProfileForm p update /> }.into_any(),
                        Ok(p) => view! { <ProfileView p /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ProfileView(p: OrgProfile) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>"Firma"</dt>
            <dd>{p.legal_name}</dd>
            <dt>"Kurzbezeichnung"</dt>
            <dd>{p.display_short}</dd>
            <dt>"Anschrift"</dt>
            <dd class="pre">{p.address}</dd>
            <dt>"Datenschutzbeauftragte/r"</dt>
            <dd class="pre">{p.dpo_contact}</dd>
        </dl>
        <h2>"Einleitung der Anlage"</h2>
        <Paragraphs text=p.intro_text />
    }
}

#[component]
fn ProfileForm(p: OrgProfile, update: ServerAction<UpdateProfile>) -> impl IntoView {
    // The server leads back here with `?gespeichert=1` after a save.
    let query = use_query_map();
    let saved = query.with_untracked(|q| q.get("gespeichert").is_some());
    // After a refused save the form shows what was typed.
    let kept = crate::ui::kept::kept(<UpdateProfile as server_fn::ServerFn>::PATH);
    let typed = |field: &str, stored: String| crate::ui::kept::or_stored(&kept, field, stored);
    let legal_name = typed("legal_name", p.legal_name);
    let display_short = typed("display_short", p.display_short);
    let address = typed("address", p.address);
    let dpo_contact = typed("dpo_contact", p.dpo_contact);
    let intro_text = typed("intro_text", p.intro_text);
    let review_dates = kept.as_ref().map_or(p.annex_review_dates, |k| {
        k.get("annex_review_dates").is_some()
    });
    let failed = move |field: &str| update.value().with_untracked(|v| invalid(v, field));
    view! {
        <p class="muted">{format!("Kürzel: {}", p.short_name)}</p>
        <FormError value=update.value() />
        <p class="hint">"Pflichtfelder sind mit * markiert."</p>
        <ActionForm action=update attr:class="form">
            <label for="legal_name" class="required">"Firma (vollständiger Name)"</label>
            <input
                id="legal_name"
                name="legal_name"
                value=legal_name
                required
                pattern=crate::ui::NOT_BLANK
                maxlength="200"
                aria-invalid=failed("legal_name").then_some("true")
                aria-describedby=failed("legal_name").then_some("legal_name-error")
            />
            <FieldError value=update.value() field="legal_name" />
            <label for="display_short">"Kurzbezeichnung in der Anlage („nachfolgend …“)"</label>
            <input
                id="display_short"
                name="display_short"
                value=display_short
                maxlength="60"
                aria-invalid=failed("display_short").then_some("true")
                aria-describedby=failed("display_short").then_some("display_short-error")
            />
            <FieldError value=update.value() field="display_short" />
            <label for="address">"Anschrift"</label>
            <crate::ui::TextArea id="address" name="address" rows=3 value=address invalid=failed("address") />
            <FieldError value=update.value() field="address" />
            <label for="dpo_contact">"Kontakt der/des Datenschutzbeauftragten"</label>
            <crate::ui::TextArea id="dpo_contact" name="dpo_contact" rows=3 value=dpo_contact invalid=failed("dpo_contact") />
            <FieldError value=update.value() field="dpo_contact" />
            <label for="intro_text">"Einleitungstext der Anlage"</label>
            <crate::ui::TextArea id="intro_text" name="intro_text" rows=8 value=intro_text invalid=failed("intro_text") />
            <FieldError value=update.value() field="intro_text" />
            <label class="check">
                <input type="checkbox" name="annex_review_dates" value="ja" checked=review_dates />
                " Die Anlage nennt je Abschnitt, wann die Wirksamkeit seiner Maßnahmen zuletzt geprüft wurde"
            </label>
            {saved.then(|| view! { <p class="form-ok" role="status">"Gespeichert."</p> })}
            <button type="submit" class="button primary">
                "Speichern"
            </button>
        </ActionForm>
    }
}
