package storage

import (
	"context"
	"fmt"
	"time"

	"changemaker/storage/internal/db"
)

// InfluenceCounts is the influence part of the admin dashboard.
type InfluenceCounts struct {
	// Campaigns counts campaigns by status; every status is present.
	Campaigns        map[string]int
	EmailsQueued     int // queued now
	EmailsSent       int // sent since the time asked for
	EmailsFailed     int // failed for good since the time asked for
	ResponsesPending int // awaiting moderation
}

// DashboardInfluence counts campaigns, emails and pending responses for the
// dashboard: those of the campaigns createdBy made, or of all when it is 0.
func (s *Store) DashboardInfluence(ctx context.Context, createdBy int64, since time.Time) (InfluenceCounts, error) {
	out := InfluenceCounts{Campaigns: map[string]int{}}
	for _, st := range CampaignStatuses {
		out.Campaigns[st] = 0
	}
	by := optID(createdBy)
	rows, err := s.q().DashboardCampaignCounts(ctx, by)
	if err != nil {
		return out, fmt.Errorf("count campaigns by status: %w", err)
	}
	for _, r := range rows {
		out.Campaigns[r.Status] = int(r.N)
	}
	e, err := s.q().DashboardEmailCounts(ctx, db.DashboardEmailCountsParams{Since: since, CreatedBy: by})
	if err != nil {
		return out, fmt.Errorf("count emails: %w", err)
	}
	out.EmailsQueued, out.EmailsSent, out.EmailsFailed = int(e.Queued), int(e.Sent), int(e.Failed)
	pending := ResponsePending
	n, err := s.q().CountResponses(ctx, db.CountResponsesParams{Status: &pending, CreatedBy: by})
	if err != nil {
		return out, fmt.Errorf("count pending responses: %w", err)
	}
	out.ResponsesPending = int(n)
	return out, nil
}

// VideoCounts is the media library part of the admin dashboard.
type VideoCounts struct {
	Total, Processing, Invalid, Published int
}

// DashboardVideos counts the live videos of the library.
func (s *Store) DashboardVideos(ctx context.Context) (VideoCounts, error) {
	r, err := s.q().DashboardVideoCounts(ctx)
	if err != nil {
		return VideoCounts{}, fmt.Errorf("count videos: %w", err)
	}
	return VideoCounts{Total: int(r.Total), Processing: int(r.Processing), Invalid: int(r.Invalid),
		Published: int(r.Published)}, nil
}
