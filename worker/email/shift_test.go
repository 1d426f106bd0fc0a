package email_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"

	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/email"
)

// TestShiftEmailSendsOnce: the shift email task run twice sends one
// message; a permanent refusal marks the row FAILED and is not retried.
func TestShiftEmailSendsOnce(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	ctx := context.Background()
	admin := env.CreateUser(storage.RoleMapAdmin, "")
	shifts, err := env.Store.CreateShifts(ctx, storage.NewShift{Title: "Evening canvass", Dates: []string{"2030-03-04"},
		StartTime: "17:00", EndTime: "20:00", Location: "Hall", Capacity: 5}, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := &email.Handler{Store: env.Store, Config: env.Config, Log: testenv.Logger(t)}
	signUp := func() int64 {
		t.Helper()
		vol := env.CreateUser(storage.RoleTemp, "")
		res, err := env.Store.SignUp(ctx, storage.SignupRequest{ShiftID: shifts[0].ID, UserID: vol.ID,
			Source: storage.SignupSelf})
		if err != nil {
			t.Fatal(err)
		}
		return res.EmailID
	}
	id := signUp()
	task, err := tasks.NewMapShiftEmail(tasks.MapShiftEmail{EmailID: id})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := h.ShiftEmail(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Fatalf("messages = %d, want 1", n)
	}
	if row, err := env.Store.ShiftEmailByID(ctx, id); err != nil || row.Status != "SENT" {
		t.Fatalf("row = %+v, %v; want SENT", row, err)
	}

	refused := signUp()
	env.SMTP.FailNext(550, 1)
	task, _ = tasks.NewMapShiftEmail(tasks.MapShiftEmail{EmailID: refused})
	if err := h.ShiftEmail(ctx, task); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("refused send = %v, want SkipRetry", err)
	}
	if row, _ := env.Store.ShiftEmailByID(ctx, refused); row.Status != "FAILED" {
		t.Fatalf("refused row = %s, want FAILED", row.Status)
	}
}
