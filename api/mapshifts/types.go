package mapshifts

import (
	"encoding/json"
	"time"

	"changemaker/storage"
)

// shiftView is a shift as admins and volunteers see it.
type shiftView struct {
	ID          int64     `json:"id"`
	SeriesID    *int64    `json:"seriesId"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Date        string    `json:"date"`
	StartTime   string    `json:"startTime"`
	EndTime     string    `json:"endTime"`
	Location    string    `json:"location"`
	Capacity    int       `json:"capacity"`
	SignupCount int       `json:"signupCount"`
	SpotsLeft   int       `json:"spotsLeft"`
	Status      string    `json:"status"`
	CutID       *int64    `json:"cutId"`
	IsPublic    bool      `json:"isPublic"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func spotsLeft(s storage.Shift) int {
	if s.Status == storage.ShiftCancelled || s.SignupCount >= s.Capacity {
		return 0
	}
	return s.Capacity - s.SignupCount
}

func toShiftView(s storage.Shift) shiftView {
	return shiftView{ID: s.ID, SeriesID: s.SeriesID, Title: s.Title, Description: s.Description, Date: s.Date,
		StartTime: s.StartTime, EndTime: s.EndTime, Location: s.Location, Capacity: s.Capacity,
		SignupCount: s.SignupCount, SpotsLeft: spotsLeft(s), Status: s.Status, CutID: s.CutID, IsPublic: s.IsPublic,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// publicShiftView is a shift as the public list shows it: no signups, no
// names, no one who made it.
type publicShiftView struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Date        string `json:"date"`
	StartTime   string `json:"startTime"`
	EndTime     string `json:"endTime"`
	Location    string `json:"location"`
	Capacity    int    `json:"capacity"`
	SpotsLeft   int    `json:"spotsLeft"`
	Status      string `json:"status"`
}

func toPublicShift(s storage.Shift) publicShiftView {
	return publicShiftView{ID: s.ID, Title: s.Title, Description: s.Description, Date: s.Date,
		StartTime: s.StartTime, EndTime: s.EndTime, Location: s.Location, Capacity: s.Capacity,
		SpotsLeft: spotsLeft(s), Status: s.Status}
}

// signupView is a signup as admins see it.
type signupView struct {
	ID        int64     `json:"id"`
	ShiftID   int64     `json:"shiftId"`
	UserID    int64     `json:"userId"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"createdAt"`
}

func toSignupView(s storage.Signup) signupView {
	return signupView{ID: s.ID, ShiftID: s.ShiftID, UserID: s.UserID, Name: s.Name, Email: s.Email, Role: s.Role,
		Source: s.Source, CreatedAt: s.CreatedAt}
}

// repeatInput makes a weekly series: every listed weekday (default: the
// date's own) for weeks weeks from date.
type repeatInput struct {
	Weeks    int      `json:"weeks"`
	Weekdays []string `json:"weekdays"`
}

type createRequest struct {
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Date        string       `json:"date"`
	StartTime   string       `json:"startTime"`
	EndTime     string       `json:"endTime"`
	Location    string       `json:"location"`
	Capacity    int          `json:"capacity"`
	CutID       *int64       `json:"cutId"`
	IsPublic    bool         `json:"isPublic"`
	Repeat      *repeatInput `json:"repeat"`
}

type patchRequest struct {
	Title       *string         `json:"title"`
	Description *string         `json:"description"`
	Date        *string         `json:"date"`
	StartTime   *string         `json:"startTime"`
	EndTime     *string         `json:"endTime"`
	Location    *string         `json:"location"`
	Capacity    *int            `json:"capacity"`
	CutID       json.RawMessage `json:"cutId"` // null clears the cut
	IsPublic    *bool           `json:"isPublic"`
	Status      *string         `json:"status"`
}

type publicSignupRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// Lang is the language of the volunteer's emails (en, fr); without it,
	// the pages' cm_lang cookie, else Accept-Language.
	Lang string `json:"lang"`
}

type adminSignupRequest struct {
	UserID int64 `json:"userId"`
}
