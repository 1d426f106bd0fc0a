package tasks_test

import (
	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

func mediaCases() []goldenCase {
	return []goldenCase{
		{
			name:  "media_probe",
			build: func() (*asynq.Task, error) { return tasks.NewMediaProbe(tasks.MediaProbe{VideoID: 42}) },
			typ:   "media:probe",
		},
		{
			name:  "media_thumbnail",
			build: func() (*asynq.Task, error) { return tasks.NewMediaThumbnail(tasks.MediaThumbnail{VideoID: 42}) },
			typ:   "media:thumbnail",
		},
		{
			name: "media_scan",
			build: func() (*asynq.Task, error) {
				return tasks.NewMediaScan(tasks.MediaScan{Dir: "imports/2024", RequestedBy: 7})
			},
			typ: "media:scan",
		},
		{
			name: "media_sweep",
			build: func() (*asynq.Task, error) {
				return tasks.NewMediaSweep(tasks.MediaSweep{OlderThanSeconds: 300, Limit: 200})
			},
			typ: "media:sweep",
		},
	}
}
