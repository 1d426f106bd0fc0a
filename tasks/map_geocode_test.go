package tasks_test

import (
	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

func geocodeCases() []goldenCase {
	return []goldenCase{
		{
			name:  "geocode_job",
			build: func() (*asynq.Task, error) { return tasks.NewGeocodeJob(tasks.GeocodeJob{JobID: 42}) },
			typ:   "geocode:job",
		},
		{
			name: "geocode_chunk",
			build: func() (*asynq.Task, error) {
				return tasks.NewGeocodeChunk(tasks.GeocodeChunk{JobID: 42, FirstLocationID: 100, LastLocationID: 199})
			},
			typ: "geocode:chunk",
		},
	}
}
