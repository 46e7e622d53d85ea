//! The form on its own: field order and the fixed name, the checks made before anything is
//! sent, validate → save, failure → save anyway only on the draft that failed, and a secret
//! that never shows in `Debug`.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-4333-8444-555555555555";

fn type_into(form: &mut Form, field: Field, text: &str) {
    form.focus = field;
    let input = form.input_mut().unwrap();
    *input = Input::new(text.to_owned());
}

fn filled() -> Form {
    let mut form = Form::new_profile();
    type_into(&mut form, Field::Name, "northwind");
    type_into(&mut form, Field::Tenant, TENANT);
    type_into(&mut form, Field::ClientId, CLIENT);
    type_into(&mut form, Field::Secret, "hunter2-very-secret");
    form
}

fn submit(form: &mut Form) -> FormReply {
    form.focus = Field::Secret;
    form.handle(Action::Open, &["contoso"])
}

fn sent(reply: FormReply) -> Command {
    match reply {
        FormReply::Send(command, _) => command,
        other => panic!("expected a command, got {other:?}"),
    }
}

#[test]
fn tab_visits_every_field_and_editing_skips_the_fixed_name() {
    let mut form = Form::new_profile();
    let mut seen = vec![form.focus];
    for _ in 0..4 {
        form.handle(Action::NextField, &[]);
        seen.push(form.focus);
    }
    assert_eq!(
        seen,
        [
            Field::Name,
            Field::Tenant,
            Field::ClientId,
            Field::Secret,
            Field::Name
        ]
    );
    form.handle(Action::PreviousField, &[]);
    assert_eq!(form.focus, Field::Secret);

    let profile = ProfileSnapshot {
        name: "contoso".into(),
        tenant: TENANT.into(),
        client_id: CLIENT.into(),
        verdict: None,
        subscriptions: Vec::new(),
        findings_history: Vec::new(),
        recent_events: Vec::new(),
    };
    let mut edit = Form::edit(&profile);
    assert_eq!(edit.focus, Field::Tenant);
    assert_eq!(edit.text(Field::ClientId).unwrap().value(), CLIENT);
    edit.handle(Action::PreviousField, &[]);
    assert_eq!(edit.focus, Field::Secret, "the fixed name is skipped");
    edit.focus = Field::Name;
    assert!(edit.input_mut().is_none(), "the name cannot be typed into");
}

#[test]
fn bad_fields_are_refused_before_anything_is_sent() {
    let mut form = Form::new_profile();
    let reply = submit(&mut form);
    assert!(matches!(reply, FormReply::Notice(_)), "{reply:?}");
    for field in Field::ALL {
        assert!(form.error(field).is_some(), "{field:?} passed empty");
    }
    assert_eq!(
        form.focus,
        Field::Name,
        "the first refused field gets the keys"
    );
    assert!(matches!(form.phase, Phase::Editing));

    let mut form = filled();
    type_into(&mut form, Field::Name, "contoso");
    type_into(&mut form, Field::Tenant, "common");
    type_into(&mut form, Field::ClientId, "not-a-guid");
    let reply = submit(&mut form);
    assert!(matches!(reply, FormReply::Notice(_)), "{reply:?}");
    assert!(form.error(Field::Name).unwrap().contains("exists"));
    assert!(form.error(Field::Tenant).unwrap().contains("GUID"));
    assert!(form.error(Field::ClientId).unwrap().contains("GUID"));
    assert!(form.error(Field::Secret).is_none());
    // Typing into a refused field clears its complaint.
    form.focus = Field::Tenant;
    form.input_mut().unwrap();
    assert!(form.error(Field::Tenant).is_none());
}

#[test]
fn a_validated_draft_is_saved_and_the_save_closes_the_form() {
    let mut form = filled();
    let validate = sent(submit(&mut form));
    let Command::ValidateProfile { draft } = &validate else {
        panic!("{validate:?}");
    };
    assert_eq!(
        (draft.name.as_str(), draft.tenant.as_str()),
        ("northwind", TENANT)
    );
    assert_eq!(
        draft.secret.as_ref().unwrap().expose_secret(),
        "hunter2-very-secret"
    );
    assert!(form.busy());
    assert!(
        form.input_mut().is_none(),
        "fields are locked while validating"
    );

    let unrelated = Command::TestCredentials {
        profile: "northwind".into(),
    };
    assert!(matches!(
        form.outcome(&unrelated, &Ok(CommandOutcome::done("ok"))),
        Next::Stay
    ));
    let Next::Send(save) = form.outcome(&validate, &Ok(CommandOutcome::done("token issued")))
    else {
        panic!("a valid draft is saved");
    };
    assert!(
        matches!(&save, Command::SaveProfile { force: false, draft } if draft.name == "northwind")
    );
    assert!(matches!(
        form.outcome(&save, &Ok(CommandOutcome::done("saved"))),
        Next::Close
    ));
}

#[test]
fn a_failed_validation_offers_save_anyway_only_for_the_draft_that_failed() {
    let mut form = filled();
    let reply = form.handle(Action::SaveAnyway, &[]);
    assert!(matches!(reply, FormReply::Notice(_)), "nothing failed yet");
    let validate = sent(submit(&mut form));
    let failure = "profile northwind: AADSTS7000215: Invalid client secret provided";
    assert!(matches!(
        form.outcome(&validate, &Ok(CommandOutcome::failed(failure))),
        Next::Stay
    ));
    assert!(matches!(&form.phase, Phase::Failed { message, .. } if message == failure));
    assert!(form.can_save_anyway());

    // An edit makes it another draft: it must be validated again.
    type_into(&mut form, Field::Tenant, "fabrikam.onmicrosoft.com");
    assert!(!form.can_save_anyway());
    assert!(matches!(
        form.handle(Action::SaveAnyway, &[]),
        FormReply::Notice(_)
    ));
    type_into(&mut form, Field::Tenant, TENANT);
    assert!(form.can_save_anyway());
    let save = sent(form.handle(Action::SaveAnyway, &[]));
    assert!(
        matches!(&save, Command::SaveProfile { force: true, draft } if draft.name == "northwind")
    );
    assert!(matches!(form.phase, Phase::Saving { force: true, .. }));
}

#[test]
fn a_refusal_is_shown_without_save_anyway() {
    let mut form = filled();
    let validate = sent(submit(&mut form));
    let refused = ConsoleError::Refused("profiles cannot be edited here".into());
    assert!(matches!(form.outcome(&validate, &Err(refused)), Next::Stay));
    assert!(matches!(&form.phase, Phase::Refused(why) if why.contains("cannot be edited")));
    assert!(!form.can_save_anyway());
}

#[test]
fn the_secret_never_shows_in_debug() {
    let mut form = filled();
    let debug = format!("{form:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("[hidden]"), "{debug}");
    assert!(form.text(Field::Secret).is_none());
    assert_eq!(form.secret().chars(), "hunter2-very-secret".len());
    let validate = sent(submit(&mut form));
    let debug = format!("{form:?} {validate:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
}

#[test]
fn esc_closes_and_says_whether_anything_is_still_on_its_way() {
    let mut form = filled();
    assert!(matches!(
        form.handle(Action::Back, &[]),
        FormReply::Close(why) if why.contains("nothing was saved")
    ));
    let validate = sent(submit(&mut form));
    let _ = form.outcome(&validate, &Ok(CommandOutcome::done("token issued")));
    assert!(matches!(
        form.handle(Action::Back, &[]),
        FormReply::Close(why) if why.contains("still completes")
    ));
}
