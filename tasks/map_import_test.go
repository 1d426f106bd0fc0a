package tasks_test

import (
	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

func mapImportCases() []goldenCase {
	return []goldenCase{
		{
			name:  "map_import_plan",
			build: func() (*asynq.Task, error) { return tasks.NewMapImportPlan(tasks.MapImportPlan{ImportID: 42}) },
			typ:   "map:import-plan",
		},
		{
			name: "map_import_file",
			build: func() (*asynq.Task, error) {
				return tasks.NewMapImportFile(tasks.MapImportFile{ImportID: 42, Part: "release/Address_35.csv"})
			},
			typ: "map:import-file",
		},
	}
}
