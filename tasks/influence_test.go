package tasks_test

import (
	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

func influenceCases() []goldenCase {
	return []goldenCase{
		{
			name: "influence_represent_lookup",
			build: func() (*asynq.Task, error) {
				return tasks.NewRepresentLookup(tasks.RepresentLookup{PostalCode: "T5K2J1"})
			},
			typ: "represent:lookup",
		},
		{
			name: "influence_represent_refresh",
			build: func() (*asynq.Task, error) {
				return tasks.NewRepresentRefresh(tasks.RepresentRefresh{Limit: 50})
			},
			typ: "represent:refresh-cache",
		},
		{
			name:  "influence_send_email",
			build: func() (*asynq.Task, error) { return tasks.NewSendEmail(tasks.SendEmail{EmailID: 42}) },
			typ:   "email:send",
		},
		{
			name: "influence_sweep_emails",
			build: func() (*asynq.Task, error) {
				return tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 60, Limit: 500})
			},
			typ: "email:sweep",
		},
		{
			name:  "influence_verify_response",
			build: func() (*asynq.Task, error) { return tasks.NewVerifyResponse(tasks.VerifyResponse{ResponseID: 7}) },
			typ:   "email:response-verification",
		},
	}
}
