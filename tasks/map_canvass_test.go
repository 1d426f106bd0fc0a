package tasks_test

import (
	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

func mapCanvassCases() []goldenCase {
	return []goldenCase{
		{
			name:  "map_shift_email",
			build: func() (*asynq.Task, error) { return tasks.NewMapShiftEmail(tasks.MapShiftEmail{EmailID: 42}) },
			typ:   "email:map-shift",
		},
		{
			name: "map_shift_email_sweep",
			build: func() (*asynq.Task, error) {
				return tasks.NewMapShiftEmailSweep(tasks.MapShiftEmailSweep{OlderThanSeconds: 60, Limit: 500})
			},
			typ: "email:map-shift-sweep",
		},
		{
			name: "map_abandon_idle_sessions",
			build: func() (*asynq.Task, error) {
				return tasks.NewAbandonCanvassIdle(tasks.AbandonCanvassIdle{IdleHours: 12})
			},
			typ: "maintenance:map-abandon-idle-sessions",
		},
	}
}
