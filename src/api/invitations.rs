//! `/v1/invitations`: inviting people to the organization by email, and accepting.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use uuid::Uuid;

use super::ApiTags;
use super::api_keys::ActorDto;
use super::auth::{TokenDto, client_info};
use super::body::JsonBody;
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::text::Text;
use super::users::{RoleDto, UserDto};
use crate::domain::{
    Actor, ActorKind, Cursor, DisplayName, Email, Invitation, InvitationStatus, Password,
};
use crate::service::invitations::Acceptance;
use crate::service::{self, AppState, DEFAULT_PAGE_SIZE};

pub(crate) struct InvitationsApi;

/// An address to invite, and the role it gets.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateInvitationRequest {
    /// The address to invite, without white space or invisible characters; stored lower-cased
    /// in Unicode NFC. At most one pending invitation per address.
    email: Text<Email>,
    /// The role the invited person gets; `member` when omitted. Only owners invite owners.
    #[serde(default)]
    role: Option<RoleDto>,
}

/// Where an invitation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "InvitationStatus", rename_all = "lowercase")]
pub(crate) enum InvitationStatusDto {
    /// Its link works.
    Pending,
    /// Its link expired unused: resend it, or revoke it.
    Expired,
    Accepted,
    Revoked,
}

impl From<InvitationStatus> for InvitationStatusDto {
    fn from(status: InvitationStatus) -> Self {
        match status {
            InvitationStatus::Pending => Self::Pending,
            InvitationStatus::Expired => Self::Expired,
            InvitationStatus::Accepted => Self::Accepted,
            InvitationStatus::Revoked => Self::Revoked,
        }
    }
}

/// An invitation (never its token, which only the email holds).
#[derive(Debug, Object)]
#[oai(rename = "Invitation")]
pub(crate) struct InvitationDto {
    /// The invitation's id.
    id: Uuid,
    /// The invited address (lower-cased, NFC).
    email: String,
    /// The role the invited person gets.
    role: RoleDto,
    /// The user who sent it.
    invited_by: ActorDto,
    /// `pending`, `expired`, `accepted` or `revoked`.
    status: InvitationStatusDto,
    /// When its link stops working.
    expires_at: DateTime<Utc>,
    /// When it was first sent.
    created_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationDto {
    fn from(invitation: Invitation) -> Self {
        Self {
            id: invitation.id,
            email: invitation.email,
            role: invitation.role.into(),
            invited_by: Actor {
                kind: ActorKind::User,
                id: *invitation.invited_by.as_uuid(),
            }
            .into(),
            status: invitation.status.into(),
            expires_at: invitation.expires_at,
            created_at: invitation.created_at,
        }
    }
}

/// A page of invitations.
#[derive(Debug, Object)]
#[oai(rename = "InvitationPage")]
pub(crate) struct InvitationPageDto {
    /// The invitations of this page, oldest first.
    items: Vec<InvitationDto>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    next_cursor: Option<String>,
}

/// The invitation's token, and the new user's name and password.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptInvitationRequest {
    /// The token of the invitation email's link (`...#token=<token>`).
    #[oai(validator(max_length = 90))]
    token: String,
    /// The new user's display name: visible text, stored in Unicode NFC.
    display_name: Text<DisplayName>,
    /// 8 to 128 characters.
    password: Text<Password>,
}

/// The new user and their tokens.
#[derive(Debug, Object)]
pub(crate) struct AcceptedInvitationDto {
    /// The user the invitation created (its address verified).
    user: UserDto,
    #[oai(flatten)]
    token: TokenDto,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum CreateInvitationResponse {
    /// The invitation was created and its email queued.
    #[oai(status = 201)]
    Created(Json<InvitationDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum InvitationResponse {
    /// The invitation, sent again with a new link and expiry.
    #[oai(status = 200)]
    Ok(Json<InvitationDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ListInvitationsResponse {
    /// A page of pending invitations.
    #[oai(status = 200)]
    Ok(Json<InvitationPageDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum RevokeInvitationResponse {
    /// The invitation is revoked: its link no longer works.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum AcceptInvitationResponse {
    /// The user was created in the invitation's organization, with the invited role.
    #[oai(status = 201)]
    Created(Json<AcceptedInvitationDto>),
}

#[OpenApi(prefix_path = "/v1/invitations", tag = "ApiTags::Invitations")]
impl InvitationsApi {
    /// Invite someone
    ///
    /// Emails `email` a link that lets them join the organization with `role` (7 days by
    /// default). Owners invite any role, admins admins and members, with their own access
    /// token (403 `PERSON_ONLY` for an API key). 409 `ALREADY_A_MEMBER` for a member's
    /// address, 409 `INVITATION_PENDING` when the address has a pending invitation; each
    /// organization may send a limited number an hour (429 `RATE_LIMITED`).
    #[oai(path = "/", method = "post", operation_id = "createInvitation")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateInvitationRequest>,
    ) -> Result<CreateInvitationResponse, ApiError> {
        let req = body.0;
        let role = req.role.unwrap_or(RoleDto::Member).into();
        let email = req.email.into_value();
        let invitation = service::invitations::create(&state, &auth.0, &email, role).await?;
        Ok(CreateInvitationResponse::Created(Json(invitation.into())))
    }

    /// List pending invitations
    ///
    /// Invitations neither accepted nor revoked (expired ones included, with status
    /// `expired`), oldest first, in pages of `limit` (1 to 100, default 20). Owners and admins.
    #[oai(path = "/", method = "get", operation_id = "listInvitations")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page; omit for the first page.
        cursor: Query<Option<Text<Cursor>>>,
    ) -> Result<ListInvitationsResponse, ApiError> {
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let (items, next) =
            service::invitations::list(&state, &auth.0, cursor.0.as_deref(), limit).await?;
        Ok(ListInvitationsResponse::Ok(Json(InvitationPageDto {
            items: items.into_iter().map(InvitationDto::from).collect(),
            next_cursor: next,
        })))
    }

    /// Revoke an invitation
    ///
    /// Its link stops working (accepting it then answers 400 `INVITATION_REVOKED`). Owners,
    /// and admins for invitations of admins and members; 409 `INVITATION_NOT_PENDING` when it
    /// was accepted or revoked already.
    #[oai(path = "/:id", method = "delete", operation_id = "revokeInvitation")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The invitation's id.
        id: Path<Uuid>,
    ) -> Result<RevokeInvitationResponse, ApiError> {
        service::invitations::revoke(&state, &auth.0, id.0).await?;
        Ok(RevokeInvitationResponse::NoContent)
    }

    /// Resend an invitation
    ///
    /// Emails the invitation again with a new link, valid for the full period again; the
    /// earlier link stops working. Same rights and limits as inviting.
    #[oai(
        path = "/:id/resend",
        method = "post",
        operation_id = "resendInvitation"
    )]
    async fn resend(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The invitation's id.
        id: Path<Uuid>,
    ) -> Result<InvitationResponse, ApiError> {
        let invitation = service::invitations::resend(&state, &auth.0, id.0).await?;
        Ok(InvitationResponse::Ok(Json(invitation.into())))
    }

    /// Accept an invitation
    ///
    /// No bearer token: the invitation's token is the credential. Creates the user in the
    /// invitation's organization with the invited role (their address counts as verified)
    /// and returns tokens as log-in does. The token works once. Refusals: 400 `TOKEN_INVALID`
    /// (malformed or unknown), `TOKEN_EXPIRED`, `TOKEN_USED` (accepted already),
    /// `INVITATION_REVOKED`; 409 `EMAIL_ALREADY_EXISTS` when the address became a member
    /// meanwhile. Limited per client address like log-in.
    #[oai(path = "/accept", method = "post", operation_id = "acceptInvitation")]
    async fn accept(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<AcceptInvitationRequest>,
    ) -> Result<AcceptInvitationResponse, ApiError> {
        let body = body.0;
        let acceptance = Acceptance {
            token: body.token,
            display_name: body.display_name.into_value(),
            password: body.password.into_value(),
        };
        let (user, issued) =
            service::invitations::accept(&state, acceptance, &client_info(req)).await?;
        Ok(AcceptInvitationResponse::Created(Json(
            AcceptedInvitationDto {
                user: user.into(),
                token: issued.into(),
            },
        )))
    }
}
