package responses

import (
	"time"

	"changemaker/storage"
)

// responseView is a response as its moderators see it: the submitter's
// email and the verification state included. The wall shows publicResponse.
type responseView struct {
	ID                   int64      `json:"id"`
	CampaignID           int64      `json:"campaignId"`
	RepresentativeName   string     `json:"representativeName"`
	RepresentativeTitle  string     `json:"representativeTitle"`
	RepresentativeLevel  string     `json:"representativeLevel"`
	RepresentativeEmail  string     `json:"representativeEmail"`
	ResponseType         string     `json:"responseType"`
	ResponseText         string     `json:"responseText"`
	Comment              string     `json:"comment"`
	SubmitterName        string     `json:"submitterName"`
	SubmitterEmail       string     `json:"submitterEmail"`
	IsAnonymous          bool       `json:"isAnonymous"`
	Status               string     `json:"status"`
	ModerationNote       string     `json:"moderationNote"`
	ModeratedBy          *int64     `json:"moderatedBy"`
	VerifiedAt           *time.Time `json:"verifiedAt"`
	VerificationSentAt   *time.Time `json:"verificationSentAt"`
	VerificationFailedAt *time.Time `json:"verificationFailedAt"`
	VerificationError    string     `json:"verificationError"`
	UpvoteCount          int        `json:"upvoteCount"`
	CreatedAt            time.Time  `json:"createdAt"`
	UpdatedAt            time.Time  `json:"updatedAt"`
}

func toResponseView(r storage.Response) responseView {
	return responseView{ID: r.ID, CampaignID: r.CampaignID, RepresentativeName: r.RepresentativeName,
		RepresentativeTitle: r.RepresentativeTitle, RepresentativeLevel: r.RepresentativeLevel,
		RepresentativeEmail: r.RepresentativeEmail, ResponseType: r.ResponseType, ResponseText: r.ResponseText,
		Comment: r.Comment, SubmitterName: r.SubmitterName, SubmitterEmail: r.SubmitterEmail,
		IsAnonymous: r.IsAnonymous, Status: r.Status, ModerationNote: r.ModerationNote, ModeratedBy: r.ModeratedBy,
		VerifiedAt: r.VerifiedAt, VerificationSentAt: r.VerificationSentAt,
		VerificationFailedAt: r.VerificationFailedAt, VerificationError: r.VerificationError,
		UpvoteCount: r.UpvoteCount, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
