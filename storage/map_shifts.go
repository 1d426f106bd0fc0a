package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"changemaker/storage/internal/db"
)

// Shift statuses. FULL follows the signups; CANCELLED is an admin's.
const (
	ShiftOpen      = "OPEN"
	ShiftFull      = "FULL"
	ShiftCancelled = "CANCELLED"
)

// Signup sources.
const (
	SignupSelf   = "SELF"
	SignupPublic = "PUBLIC"
	SignupAdmin  = "ADMIN"
)

// Shift email kinds.
const (
	ShiftEmailConfirmation = "CONFIRMATION"
	ShiftEmailCancellation = "CANCELLATION"
)

// Edit scopes of a shift in a series.
const (
	ScopeThis      = "this"
	ScopeFollowing = "following"
	ScopeAll       = "all"
)

// Shift errors the handlers answer with 409.
var (
	// ErrShiftFull is a signup to a shift with no place left.
	ErrShiftFull = errors.New("shift is full")
	// ErrShiftClosed is a signup to a cancelled or past shift.
	ErrShiftClosed = errors.New("shift is cancelled or over")
	// ErrCapacityBelowSignups is a capacity lower than the signups made.
	ErrCapacityBelowSignups = errors.New("capacity below the signups already made")
	// ErrShiftTimes is an end time not after the start time.
	ErrShiftTimes = errors.New("end time must be after start time")
)

// DateLayout and ClockLayout are how shift dates and times are written.
const (
	DateLayout  = "2006-01-02"
	ClockLayout = "15:04"
)

// Shift is a volunteer shift. Date is YYYY-MM-DD, StartTime and EndTime HH:MM.
type Shift struct {
	ID          int64
	SeriesID    *int64
	Title       string
	Description string
	Date        string
	StartTime   string
	EndTime     string
	Location    string
	Capacity    int
	SignupCount int
	Status      string
	CutID       *int64
	IsPublic    bool
	CreatedBy   *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func shiftFromDB(r db.MapShift) Shift {
	return Shift{ID: r.ID, SeriesID: r.SeriesID, Title: r.Title, Description: r.Description,
		Date: r.ShiftDate.Time.Format(DateLayout), StartTime: clockString(r.StartTime),
		EndTime: clockString(r.EndTime), Location: r.Location, Capacity: int(r.Capacity),
		SignupCount: int(r.SignupCount), Status: r.Status, CutID: r.CutID, IsPublic: r.IsPublic,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func clockString(t pgtype.Time) string {
	m := t.Microseconds / 60_000_000
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// pgDate converts a YYYY-MM-DD date; "" is NULL.
func pgDate(s string) (pgtype.Date, error) {
	if s == "" {
		return pgtype.Date{}, nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return pgtype.Date{}, fmt.Errorf("date %q: %w", s, err)
	}
	return pgtype.Date{Time: t, Valid: true}, nil
}

// pgClock converts an HH:MM time; "" is NULL.
func pgClock(s string) (pgtype.Time, error) {
	if s == "" {
		return pgtype.Time{}, nil
	}
	t, err := time.Parse(ClockLayout, s)
	if err != nil {
		return pgtype.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return pgtype.Time{Microseconds: int64(t.Hour()*60+t.Minute()) * 60_000_000, Valid: true}, nil
}

// NewShift is what CreateShifts needs; Dates holds one date, or the dates of
// a weekly series.
type NewShift struct {
	Title       string
	Description string
	Dates       []string
	StartTime   string
	EndTime     string
	Location    string
	Capacity    int
	CutID       *int64
	IsPublic    bool
}

// CreateShifts inserts one shift per date in one transaction; several
// dates make a series.
func (s *Store) CreateShifts(ctx context.Context, n NewShift, createdBy int64) ([]Shift, error) {
	start, err := pgClock(n.StartTime)
	if err != nil {
		return nil, err
	}
	end, err := pgClock(n.EndTime)
	if err != nil {
		return nil, err
	}
	if end.Microseconds <= start.Microseconds {
		return nil, ErrShiftTimes
	}
	out := make([]Shift, 0, len(n.Dates))
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		var series *int64
		if len(n.Dates) > 1 {
			id, err := q.CreateShiftSeries(ctx, &createdBy)
			if err != nil {
				return fmt.Errorf("create shift series: %w", err)
			}
			series = &id
		}
		for _, d := range n.Dates {
			date, err := pgDate(d)
			if err != nil {
				return err
			}
			r, err := q.CreateShift(ctx, db.CreateShiftParams{SeriesID: series, Title: n.Title,
				Description: n.Description, ShiftDate: date, StartTime: start, EndTime: end, Location: n.Location,
				Capacity: int32(n.Capacity), CutID: n.CutID, IsPublic: n.IsPublic, CreatedBy: &createdBy})
			if err != nil {
				return fmt.Errorf("insert shift: %w", err)
			}
			out = append(out, shiftFromDB(r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ShiftByID finds a shift.
func (s *Store) ShiftByID(ctx context.Context, id int64) (Shift, error) {
	r, err := s.q().ShiftByID(ctx, id)
	return shiftFromDB(r), notFound(err)
}

// ShiftPatch holds the fields UpdateShifts changes; nil leaves a field.
// Date may only change with scope "this". Status may be OPEN or CANCELLED:
// OPEN reopens a cancelled shift, which then follows its signups again.
type ShiftPatch struct {
	Title       *string
	Description *string
	Date        *string
	StartTime   *string
	EndTime     *string
	Location    *string
	Capacity    *int
	SetCut      bool
	CutID       *int64
	IsPublic    *bool
	Status      *string
}

// UpdateShifts applies p to shift id and, by scope, to the later shifts of
// its series or all of them, in one transaction. A shift that becomes
// CANCELLED queues a cancellation email to each of its volunteers; their
// outbox IDs are returned for enqueueing.
func (s *Store) UpdateShifts(ctx context.Context, id int64, scope string, p ShiftPatch) ([]Shift, []int64, error) {
	var out []Shift
	var emails []int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		rows, err := q.ShiftsInScope(ctx, db.ShiftsInScopeParams{ID: id, Scope: scope})
		if err != nil {
			return fmt.Errorf("lock shifts: %w", err)
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		arg := db.UpdateShiftParams{Title: p.Title, Description: p.Description, Location: p.Location,
			SetCut: p.SetCut, CutID: p.CutID, IsPublic: p.IsPublic, Status: p.Status, Capacity: int32Ptr(p.Capacity)}
		if p.Date != nil {
			if arg.ShiftDate, err = pgDate(*p.Date); err != nil {
				return err
			}
		}
		if p.StartTime != nil {
			if arg.StartTime, err = pgClock(*p.StartTime); err != nil {
				return err
			}
		}
		if p.EndTime != nil {
			if arg.EndTime, err = pgClock(*p.EndTime); err != nil {
				return err
			}
		}
		for _, r := range rows {
			start, end := r.StartTime, r.EndTime
			if arg.StartTime.Valid {
				start = arg.StartTime
			}
			if arg.EndTime.Valid {
				end = arg.EndTime
			}
			if end.Microseconds <= start.Microseconds {
				return ErrShiftTimes
			}
			if p.Capacity != nil && *p.Capacity < int(r.SignupCount) {
				return fmt.Errorf("shift %d has %d signups: %w", r.ID, r.SignupCount, ErrCapacityBelowSignups)
			}
			arg.ID = r.ID
			u, err := q.UpdateShift(ctx, arg)
			if err != nil {
				return fmt.Errorf("update shift %d: %w", r.ID, err)
			}
			if r.Status != ShiftCancelled && u.Status == ShiftCancelled {
				ids, err := queueShiftEmails(ctx, q, shiftFromDB(u), ShiftEmailCancellation)
				if err != nil {
					return err
				}
				emails = append(emails, ids...)
			}
			out = append(out, shiftFromDB(u))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, emails, nil
}

// DeleteShifts deletes shift id and, by scope, the later shifts of its
// series or all of them. Volunteers of a shift that was not cancelled
// already get a cancellation email; the outbox IDs are returned.
func (s *Store) DeleteShifts(ctx context.Context, id int64, scope string) (deleted int, emails []int64, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		rows, err := q.ShiftsInScope(ctx, db.ShiftsInScopeParams{ID: id, Scope: scope})
		if err != nil {
			return fmt.Errorf("lock shifts: %w", err)
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		for _, r := range rows {
			if r.Status != ShiftCancelled && r.SignupCount > 0 {
				ids, err := queueShiftEmails(ctx, q, shiftFromDB(r), ShiftEmailCancellation)
				if err != nil {
					return err
				}
				emails = append(emails, ids...)
			}
			n, err := q.DeleteShift(ctx, r.ID)
			if err != nil {
				return fmt.Errorf("delete shift %d: %w", r.ID, err)
			}
			deleted += int(n)
		}
		return nil
	})
	return deleted, emails, err
}

// queueShiftEmails writes one outbox row of kind for every volunteer of shift.
func queueShiftEmails(ctx context.Context, q *db.Queries, shift Shift, kind string) ([]int64, error) {
	users, err := q.ShiftSignupUsers(ctx, shift.ID)
	if err != nil {
		return nil, fmt.Errorf("signups of shift %d: %w", shift.ID, err)
	}
	ids := make([]int64, 0, len(users))
	for _, u := range users {
		id, err := insertShiftEmail(ctx, q, shift, u.UserID, u.Name, u.Email, u.Lang, kind)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func insertShiftEmail(ctx context.Context, q *db.Queries, shift Shift, userID int64, name, email, lang,
	kind string) (int64, error) {
	subject, body := ShiftEmailText(kind, shift, name, lang)
	id, err := q.InsertShiftEmail(ctx, db.InsertShiftEmailParams{ShiftID: &shift.ID, UserID: &userID, Kind: kind,
		ToEmail: email, ToName: truncateRunes(name, 200), Subject: truncateRunes(subject, 300), Body: body})
	if err != nil {
		return 0, fmt.Errorf("queue %s email for shift %d: %w", kind, shift.ID, err)
	}
	return id, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// ShiftEmailLangs are the languages of shift emails, the first the default:
// those of the public pages.
func ShiftEmailLangs() []string { return []string{"en", "fr"} }

// ShiftEmailLang is lang when shift emails are written in it, else English.
func ShiftEmailLang(lang string) string {
	if slices.Contains(ShiftEmailLangs(), lang) {
		return lang
	}
	return ShiftEmailLangs()[0]
}

// ShiftEmailText is the subject and body of a shift email to a volunteer,
// in lang (ShiftEmailLang: English unless French).
func ShiftEmailText(kind string, shift Shift, name, lang string) (subject, body string) {
	name = strings.TrimSpace(name)
	if ShiftEmailLang(lang) == "fr" {
		return shiftEmailTextFR(kind, shift, name)
	}
	greeting := "Hello,"
	if name != "" {
		greeting = "Hello " + name + ","
	}
	when := fmt.Sprintf("%s, %s–%s", shift.Date, shift.StartTime, shift.EndTime)
	where := ""
	if shift.Location != "" {
		where = "\nWhere: " + shift.Location
	}
	if kind == ShiftEmailCancellation {
		return "Shift cancelled: " + shift.Title,
			fmt.Sprintf("%s\n\nYour place on the shift \"%s\" (%s) is cancelled: the shift was cancelled or you "+
				"were taken off it.\n\nThank you for volunteering.\n", greeting, shift.Title, when)
	}
	return "You are signed up: " + shift.Title,
		fmt.Sprintf("%s\n\nYou are signed up for the shift \"%s\".\n\nWhen: %s%s\n\nThank you for volunteering. "+
			"If you cannot come, tell the organizers so someone else can take your place.\n", greeting, shift.Title,
			when, where)
}

// shiftEmailTextFR is ShiftEmailText in French (Canadian usage: « » and the
// space before a colon non-breaking in the body, 24-hour times written
// "9 h 30"). The subject has a plain space: the mailer folds every space of
// a subject into one.
func shiftEmailTextFR(kind string, shift Shift, name string) (subject, body string) {
	const nbsp = "\u00a0"
	greeting := "Bonjour,"
	if name != "" {
		greeting = "Bonjour " + name + ","
	}
	title := "«" + nbsp + shift.Title + nbsp + "»"
	when := fmt.Sprintf("%s, de %s à %s", frenchDate(shift.Date), frenchTime(shift.StartTime), frenchTime(shift.EndTime))
	where := ""
	if shift.Location != "" {
		where = "\nLieu" + nbsp + ": " + shift.Location
	}
	if kind == ShiftEmailCancellation {
		return "Quart annulé : " + shift.Title,
			fmt.Sprintf("%s\n\nVotre place au quart %s (%s) est annulée"+nbsp+": le quart a été annulé ou "+
				"vous en avez été retiré(e).\n\nMerci de votre engagement bénévole.\n", greeting, title, when)
	}
	return "Inscription confirmée : " + shift.Title,
		fmt.Sprintf("%s\n\nVous êtes inscrit(e) au quart %s.\n\nQuand"+nbsp+": %s%s\n\nMerci de votre "+
			"engagement bénévole. Si vous ne pouvez pas venir, prévenez les organisateurs pour que quelqu'un "+
			"d'autre puisse prendre votre place.\n", greeting, title, when, where)
}

// frenchDate writes a YYYY-MM-DD date as "samedi 5 décembre 2026" (as it
// is when it does not parse).
func frenchDate(d string) string {
	t, err := time.Parse(DateLayout, d)
	if err != nil {
		return d
	}
	days := []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	months := []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
		"octobre", "novembre", "décembre"}
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %s %d", days[t.Weekday()], day, months[t.Month()-1], t.Year())
}

// frenchTime writes HH:MM as "9 h" or "9 h 30" (as it is when it does not
// parse).
func frenchTime(c string) string {
	h, m, ok := strings.Cut(c, ":")
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil {
		return c
	}
	if minute == 0 {
		return fmt.Sprintf("%d\u00a0h", hour)
	}
	return fmt.Sprintf("%d\u00a0h\u00a0%02d", hour, minute)
}

// ShiftFilter narrows ListShifts. Zero fields do not filter.
type ShiftFilter struct {
	From     string // YYYY-MM-DD
	To       string
	Status   string
	SeriesID int64
	CutID    int64
	// PublicOnly lists public OPEN shifts only.
	PublicOnly bool
	Limit      int
	Offset     int
}

// ListShifts returns one page of shifts in date order, and the total.
func (s *Store) ListShifts(ctx context.Context, f ShiftFilter) ([]Shift, int, error) {
	from, err := pgDate(f.From)
	if err != nil {
		return nil, 0, err
	}
	to, err := pgDate(f.To)
	if err != nil {
		return nil, 0, err
	}
	status, series, cut := optText(f.Status), optID(f.SeriesID), optID(f.CutID)
	return page(ctx, s, "shifts",
		func(ctx context.Context, q *db.Queries) (int64, error) {
			return q.CountShifts(ctx, db.CountShiftsParams{FromDate: from, ToDate: to, Status: status,
				SeriesID: series, CutID: cut, PublicOnly: f.PublicOnly})
		},
		func(ctx context.Context, q *db.Queries) ([]db.MapShift, error) {
			return q.ListShifts(ctx, db.ListShiftsParams{FromDate: from, ToDate: to, Status: status,
				SeriesID: series, CutID: cut, PublicOnly: f.PublicOnly, PageLimit: int64(f.Limit),
				PageOffset: int64(f.Offset)})
		},
		shiftFromDB)
}

// Signup is a volunteer's place on a shift, with who they are.
type Signup struct {
	ID        int64
	ShiftID   int64
	UserID    int64
	Source    string
	Name      string
	Email     string
	Role      string
	CreatedAt time.Time
}

// SignupRequest is what SignUp needs.
type SignupRequest struct {
	ShiftID int64
	UserID  int64
	Source  string
	AddedBy *int64
	// PublicOnly refuses a shift that is not public (as ErrNotFound).
	PublicOnly bool
	// Today is the caller's date (YYYY-MM-DD): a shift before it is over.
	Today string
	// Lang is the language of the volunteer's emails, one of ShiftEmailLangs;
	// anything else is English. A volunteer signed up already keeps theirs.
	Lang string
}

// SignupResult is what SignUp did.
type SignupResult struct {
	Shift   Shift
	Created bool // false: the volunteer was signed up already
	EmailID int64
}

// SignUp gives a volunteer a place on a shift. The shift row is locked for
// the whole transaction, so simultaneous signups queue on it and capacity is
// never exceeded: the one that finds no place left gets ErrShiftFull. A
// volunteer already signed up gets the shift back with Created false. A
// confirmation email is queued in the same transaction.
func (s *Store) SignUp(ctx context.Context, r SignupRequest) (SignupResult, error) {
	var out SignupResult
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		sh, err := q.ShiftForUpdate(ctx, r.ShiftID)
		if err != nil {
			return notFound(err)
		}
		if r.PublicOnly && !sh.IsPublic {
			return ErrNotFound
		}
		if _, err := q.SignupOf(ctx, db.SignupOfParams{ShiftID: sh.ID, UserID: r.UserID}); err == nil {
			out.Shift = shiftFromDB(sh)
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("find signup: %w", err)
		}
		if sh.Status == ShiftCancelled || (r.Today != "" && sh.ShiftDate.Time.Format(DateLayout) < r.Today) {
			return ErrShiftClosed
		}
		if sh.SignupCount >= sh.Capacity {
			return ErrShiftFull
		}
		lang := ShiftEmailLang(r.Lang)
		if _, err := q.InsertSignup(ctx, db.InsertSignupParams{ShiftID: sh.ID, UserID: r.UserID, Source: r.Source,
			AddedBy: r.AddedBy, Lang: lang}); err != nil {
			return fmt.Errorf("insert signup: %w", err)
		}
		u, err := q.AdjustSignupCount(ctx, db.AdjustSignupCountParams{ID: sh.ID, Delta: 1})
		if err != nil {
			return fmt.Errorf("count signup: %w", err)
		}
		out.Shift, out.Created = shiftFromDB(u), true
		user, err := q.UserByID(ctx, r.UserID)
		if err != nil {
			return fmt.Errorf("load volunteer %d: %w", r.UserID, notFound(err))
		}
		out.EmailID, err = insertShiftEmail(ctx, q, out.Shift, user.ID, user.Name, user.Email, lang,
			ShiftEmailConfirmation)
		return err
	})
	return out, err
}

// CancelSignup takes a volunteer off a shift and queues their cancellation
// email; ErrNotFound when they were not on it.
func (s *Store) CancelSignup(ctx context.Context, shiftID, userID int64) (Shift, int64, error) {
	var out Shift
	var emailID int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		if _, err := q.ShiftForUpdate(ctx, shiftID); err != nil {
			return notFound(err)
		}
		user, err := q.UserByID(ctx, userID)
		if err != nil {
			return notFound(err)
		}
		// The cancellation is written in the language of the signup.
		signup, err := q.SignupOf(ctx, db.SignupOfParams{ShiftID: shiftID, UserID: userID})
		if err != nil {
			return notFound(err)
		}
		n, err := q.DeleteSignup(ctx, db.DeleteSignupParams{ShiftID: shiftID, UserID: userID})
		if err != nil {
			return fmt.Errorf("delete signup: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		u, err := q.AdjustSignupCount(ctx, db.AdjustSignupCountParams{ID: shiftID, Delta: -1})
		if err != nil {
			return fmt.Errorf("count signup: %w", err)
		}
		out = shiftFromDB(u)
		emailID, err = insertShiftEmail(ctx, q, out, user.ID, user.Name, user.Email, signup.Lang,
			ShiftEmailCancellation)
		return err
	})
	return out, emailID, err
}

// TempUserFor finds the live account with email, or creates a TEMP one
// named name. An existing account keeps its name and role.
func (s *Store) TempUserFor(ctx context.Context, email, name string) (User, error) {
	for range 3 {
		u, err := s.UserByEmail(ctx, email)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return User{}, err
		}
		// No password: the hash matches none. Two simultaneous creates for
		// one address: the loser finds the winner's account.
		u, err = s.CreateUser(ctx, NewUser{Email: email, Name: name, PasswordHash: "!no-password", Role: RoleTemp})
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, ErrConflict) {
			return User{}, err
		}
	}
	return User{}, fmt.Errorf("create a temporary user: %w", ErrConflict)
}

func signupFromRow(id, shiftID, userID int64, source string, created time.Time, name, email, role string) Signup {
	return Signup{ID: id, ShiftID: shiftID, UserID: userID, Source: source, CreatedAt: created, Name: name,
		Email: email, Role: role}
}

// ListSignups returns one page of a shift's signups, oldest first, and the total.
func (s *Store) ListSignups(ctx context.Context, shiftID int64, limit, offset int) ([]Signup, int, error) {
	return page(ctx, s, "signups",
		func(ctx context.Context, q *db.Queries) (int64, error) { return q.CountSignups(ctx, shiftID) },
		func(ctx context.Context, q *db.Queries) ([]db.ListSignupsRow, error) {
			return q.ListSignups(ctx, db.ListSignupsParams{ShiftID: shiftID, PageLimit: int64(limit),
				PageOffset: int64(offset)})
		},
		func(r db.ListSignupsRow) Signup {
			return signupFromRow(r.ID, r.ShiftID, r.UserID, r.Source, r.CreatedAt, r.Name, r.Email, r.Role)
		})
}

// AllSignups returns every signup of a shift (a shift holds at most 10,000).
func (s *Store) AllSignups(ctx context.Context, shiftID int64) ([]Signup, error) {
	rows, err := s.q().ShiftSignupUsers(ctx, shiftID)
	if err != nil {
		return nil, fmt.Errorf("signups of shift %d: %w", shiftID, err)
	}
	return convert(rows, func(r db.ShiftSignupUsersRow) Signup {
		return signupFromRow(r.ID, r.ShiftID, r.UserID, r.Source, r.CreatedAt, r.Name, r.Email, r.Role)
	}), nil
}

// UpcomingShiftsOf lists the shifts a user signed up for from date on.
func (s *Store) UpcomingShiftsOf(ctx context.Context, userID int64, from string, limit int) ([]Shift, error) {
	d, err := pgDate(from)
	if err != nil {
		return nil, err
	}
	rows, err := s.q().UserShifts(ctx, db.UserShiftsParams{UserID: userID, FromDate: d, PageLimit: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("shifts of user %d: %w", userID, err)
	}
	return convert(rows, shiftFromDB), nil
}

// ShiftEmail is one row of the shift email outbox.
type ShiftEmail struct {
	ID        int64
	ShiftID   *int64
	Kind      string
	ToEmail   string
	ToName    string
	Subject   string
	Body      string
	Status    string
	Attempts  int
	LastError string
	SentAt    *time.Time
	UpdatedAt time.Time
}

// ShiftEmailByID finds an outbox row.
func (s *Store) ShiftEmailByID(ctx context.Context, id int64) (ShiftEmail, error) {
	r, err := s.q().ShiftEmailByID(ctx, id)
	return ShiftEmail{ID: r.ID, ShiftID: r.ShiftID, Kind: r.Kind, ToEmail: r.ToEmail, ToName: r.ToName,
		Subject: r.Subject, Body: r.Body, Status: r.Status, Attempts: int(r.Attempts), LastError: r.LastError,
		SentAt: r.SentAt, UpdatedAt: r.UpdatedAt}, notFound(err)
}

// MarkShiftEmailSent marks a QUEUED row SENT; false when it was not QUEUED.
func (s *Store) MarkShiftEmailSent(ctx context.Context, id int64) (bool, error) {
	n, err := s.q().MarkShiftEmailSent(ctx, id)
	return n > 0, err
}

// RecordShiftEmailAttempt notes a failed attempt; final marks the row FAILED.
func (s *Store) RecordShiftEmailAttempt(ctx context.Context, id int64, msg string, final bool) error {
	return s.q().RecordShiftEmailAttempt(ctx, db.RecordShiftEmailAttemptParams{ID: id,
		LastError: truncateRunes(msg, 2000), Final: final})
}

// QueuedShiftEmailIDs lists QUEUED rows untouched since before cutoff.
func (s *Store) QueuedShiftEmailIDs(ctx context.Context, cutoff time.Time, limit int) ([]int64, error) {
	return s.q().QueuedShiftEmailIDs(ctx, db.QueuedShiftEmailIDsParams{Cutoff: cutoff, MaxRows: int64(limit)})
}
