package mapcanvass

import (
	"encoding/json"
	"time"

	"changemaker/storage"
)

type sessionView struct {
	ID             int64      `json:"id"`
	UserID         int64      `json:"userId"`
	CutID          *int64     `json:"cutId"`
	ShiftID        *int64     `json:"shiftId"`
	Status         string     `json:"status"`
	StartedAt      time.Time  `json:"startedAt"`
	EndedAt        *time.Time `json:"endedAt"`
	LastActivityAt time.Time  `json:"lastActivityAt"`
}

func toSessionView(s storage.CanvassSession) sessionView {
	return sessionView{ID: s.ID, UserID: s.UserID, CutID: s.CutID, ShiftID: s.ShiftID, Status: s.Status,
		StartedAt: s.StartedAt, EndedAt: s.EndedAt, LastActivityAt: s.LastActivityAt}
}

type visitView struct {
	ID           int64     `json:"id"`
	ClientID     string    `json:"clientId"`
	SessionID    *int64    `json:"sessionId"`
	UserID       *int64    `json:"userId"`
	LocationID   int64     `json:"locationId"`
	UnitID       *int64    `json:"unitId"`
	Outcome      string    `json:"outcome"`
	SupportLevel *int      `json:"supportLevel"`
	Notes        string    `json:"notes"`
	VisitedAt    time.Time `json:"visitedAt"`
	CreatedAt    time.Time `json:"createdAt"`
}

func toVisitView(v storage.Visit) visitView {
	return visitView{ID: v.ID, ClientID: v.ClientID.String(), SessionID: v.SessionID, UserID: v.UserID,
		LocationID: v.LocationID, UnitID: v.UnitID, Outcome: v.Outcome, SupportLevel: v.SupportLevel, Notes: v.Notes,
		VisitedAt: v.VisitedAt, CreatedAt: v.CreatedAt}
}

// visitResult is one posted visit's answer: the visit as first recorded,
// and whether this request recorded it.
type visitResult struct {
	Visit     visitView `json:"visit"`
	Duplicate bool      `json:"duplicate"`
}

type sessionRequest struct {
	CutID   int64  `json:"cutId"`
	ShiftID *int64 `json:"shiftId"`
}

// visitInput is one visit. The personal-data fields are read only to be
// refused: a volunteer may change support data, not personal data.
type visitInput struct {
	ClientID     string          `json:"clientId"`
	SessionID    *int64          `json:"sessionId"`
	LocationID   int64           `json:"locationId"`
	UnitID       int64           `json:"unitId"`
	Outcome      string          `json:"outcome"`
	SupportLevel *int            `json:"supportLevel"`
	Notes        string          `json:"notes"`
	VisitedAt    string          `json:"visitedAt"`
	ResidentName json.RawMessage `json:"residentName"`
	Phone        json.RawMessage `json:"phone"`
	Email        json.RawMessage `json:"email"`
}

// visitsRequest is one visit, or {"visits": […]}.
type visitsRequest struct {
	Visits *[]visitInput `json:"visits"`
	visitInput
}

type trackPointInput struct {
	Latitude   *float64 `json:"latitude"`
	Longitude  *float64 `json:"longitude"`
	Accuracy   *float64 `json:"accuracy"`
	RecordedAt string   `json:"recordedAt"`
}

type trackRequest struct {
	Points []trackPointInput `json:"points"`
}

type routeStopView struct {
	Order      int     `json:"order"`
	LocationID int64   `json:"locationId"`
	Address    string  `json:"address"`
	Latitude   float64 `json:"latitude"`
	Longitude  float64 `json:"longitude"`
	LegMeters  float64 `json:"legMeters"`
}

type recentVisitView struct {
	visitView
	UserName string `json:"userName"`
	Address  string `json:"address"`
}

type activeSessionView struct {
	sessionView
	UserName string `json:"userName"`
	CutName  string `json:"cutName"`
	Visits   int    `json:"visits"`
}

type leaderboardView struct {
	Rank          int    `json:"rank"`
	UserID        int64  `json:"userId"`
	Name          string `json:"name"`
	Visits        int    `json:"visits"`
	Conversations int    `json:"conversations"`
	Doors         int    `json:"doors"`
}

type assignedShiftView struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Date      string `json:"date"`
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
	Location  string `json:"location"`
	Status    string `json:"status"`
	CutID     *int64 `json:"cutId"`
}

type cutRefView struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"`
}
