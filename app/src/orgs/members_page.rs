//! Members and invitations (admins only).

use leptos::prelude::*;
use leptos_meta::Title;

use super::{ChangeRole, InviteMember, MembersView, RemoveMember, RevokeInvitation, list_members};
use crate::domain::Role;
use crate::ui::{ErrorView, FieldError, FormError, Loading, described_by_in, invalid};

#[derive(Clone, Copy)]
struct Edits {
    revoke: ServerAction<RevokeInvitation>,
    role: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let edits = Edits {
        revoke: ServerAction::new(),
        role: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                edits.revoke.version().get(),
                edits.role.version().get(),
                edits.remove.version().get(),
            )
        },
        |_| list_members(),
    );
    view! {
        <Title text="Mitglieder" />
        <section class="page">
            <h1>"Mitglieder"</h1>
            <FormError value=edits.role.value() unlinked=true />
            <FormError value=edits.remove.value() unlinked=true />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <Members v edits /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
        .collect_view()
}

#[component]
fn Members(v: MembersView, edits: Edits) -> impl IntoView {
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"E-Mail"</th>
                    <th>"Rolle"</th>
                    <th>
                        <span class="sr-only">"Aktionen"</span>
                    </th>
                </tr>
            </thead>
            <tbody>
                {v
                    .members
                    .into_iter()
                    .map(|m| {
                        let uid = m.user_id;
                        let name = m.display_name.clone();
                        view! {
                            <tr>
                                <td>{m.display_name}</td>
                                <td>{m.email}</td>
                                <td>
                                    <ActionForm action=edits.role attr:class="inline">
                                        <input type="hidden" name="user_id" value=uid.to_string() />
                                        <select name="role" aria-label="Rolle">
                                            {role_options(m.role)}
                                        </select>
                                        <button type="submit" class="link">
                                            "Ändern"
                                        </button>
                                    </ActionForm>
                                </td>
                                <td>
                                    <crate::ui::Confirm
                                        action="Entfernen …"
                                        consequence=format!("{name} verliert den Zugang zu dieser Organisation und ist für keine Maßnahme mehr verantwortlich. Verlauf, Protokoll, unterschriebene Verpflichtungen und Schulungsnachweise bleiben erhalten.")
                                    >
                                        <ActionForm action=edits.remove attr:class="inline">
                                            <input type="hidden" name="user_id" value=uid.to_string() />
                                            <button type="submit" class="link danger">
                                                "Ja, entfernen"
                                            </button>
                                        </ActionForm>
                                    </crate::ui::Confirm>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <InviteForm />
        {(!v.invitations.is_empty())
            .then(|| {
                view! {
                    <h2>"Offene Einladungen"</h2>
                    <ul class="plain">
                        {v
                            .invitations
                            .into_iter()
                            .map(|i| {
                                view! {
                                    <li>
                                        {format!("{} · {} · gültig bis {}", i.email, i.role.label(), i.expires_at)}
                                        <crate::ui::Confirm
                                            action="Widerrufen …"
                                            consequence=format!("Der Einladungslink für {} gilt dann nicht mehr.", i.email)
                                        >
                                            <ActionForm action=edits.revoke attr:class="inline">
                                                <input type="hidden" name="id" value=i.id.to_string() />
                                                <button type="submit" class="link danger">
                                                    "Ja, widerrufen"
                                                </button>
                                            </ActionForm>
                                        </crate::ui::Confirm>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
    }
}

/// The invitation form, an island: the link of a new invitation is shown
/// once, right here, so the admin can pass it on another way; it is not
/// put into an address. Without JavaScript the form posts, the page comes
/// back with the invitation listed, and the link travels by mail only.
#[island]
fn InviteForm() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let link = move || invite.value().get().and_then(|r| r.ok());
    view! {
        <section class="card">
            <h2>"Einladen"</h2>
            <ActionForm action=invite attr:class="form">
                <label for="invite-email" class="required">"E-Mail-Adresse"</label>
                <input
                    id="invite-email"
                    type="email"
                    name="email"
                    required
                    aria-invalid=move || invite.value().with(|v| invalid(v, "email")).then_some("true")
                    aria-describedby=move || invite.value().with(|v| described_by_in(v, "invite-", "email"))
                />
                <FieldError value=invite.value() field="email" prefix="invite-" />
                <label for="invite-role">"Rolle"</label>
                <select id="invite-role" name="role">
                    {role_options(Role::Staff)}
                </select>
                <label for="invite-locale">"Sprache der Einladung"</label>
                <select id="invite-locale" name="locale">
                    <option value="de" selected>"Deutsch"</option>
                    <option value="en">"English"</option>
                </select>
                <FormError value=invite.value() prefix="invite-" />
                <button type="submit" class="button primary">
                    "Einladung senden"
                </button>
            </ActionForm>
            {move || {
                link()
                    .map(|l| {
                        view! {
                            <div class="notice" role="status">
                                <p>"Die Einladung wird per E-Mail versendet (siehe Postausgang). Der Link ist 14 Tage gültig; Sie können ihn auch selbst weitergeben:"</p>
                                <p>
                                    <code class="invite-link">{l}</code>
                                </p>
                                <p class="muted">"Unter „Offene Einladungen“ steht sie, sobald Sie die Seite neu laden."</p>
                            </div>
                        }
                    })
            }}
        </section>
    }
}
