//! The organisation profile: the names and texts the annex starts with.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{OrgProfile, UpdateProfile, get_profile};
use crate::ui::{ErrorView, FormError, Loading, Paragraphs};

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
    view! {
        <p class="muted">{format!("Kürzel: {}", p.short_name)}</p>
        <ActionForm action=update attr:class="form">
            <label for="legal_name">"Firma (vollständiger Name)"</label>
            <input id="legal_name" name="legal_name" value=p.legal_name required pattern=crate::ui::NOT_BLANK maxlength="200" />
            <label for="display_short">"Kurzbezeichnung in der Anlage („nachfolgend …“)"</label>
            <input id="display_short" name="display_short" value=p.display_short maxlength="60" />
            <label for="address">"Anschrift"</label>
            <crate::ui::TextArea id="address" name="address" rows=3 value=p.address />
            <label for="dpo_contact">"Kontakt der/des Datenschutzbeauftragten"</label>
            <crate::ui::TextArea id="dpo_contact" name="dpo_contact" rows=3 value=p.dpo_contact />
            <label for="intro_text">"Einleitungstext der Anlage"</label>
            <crate::ui::TextArea id="intro_text" name="intro_text" rows=8 value=p.intro_text />
            <label class="check">
                <input type="checkbox" name="annex_review_dates" value="ja" checked=p.annex_review_dates />
                " Die Anlage nennt je Abschnitt, wann die Wirksamkeit seiner Maßnahmen zuletzt geprüft wurde"
            </label>
            <FormError value=update.value() />
            {saved.then(|| view! { <p class="form-ok" role="status">"Gespeichert."</p> })}
            <button type="submit" class="button primary">
                "Speichern"
            </button>
        </ActionForm>
    }
}
