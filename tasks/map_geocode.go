package tasks

import (
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Geocode task types, on the geocode queue.
const (
	// TypeGeocodeJob plans a geocode job: it cuts the job's locations into
	// chunks and enqueues a TypeGeocodeChunk per chunk.
	TypeGeocodeJob = "geocode:job"
	// TypeGeocodeChunk places the still pending locations of one chunk.
	TypeGeocodeChunk = "geocode:chunk"
	// TypeGeocodeSweep plans again the jobs whose tasks were lost.
	TypeGeocodeSweep = "geocode:sweep"
)

// GeocodeJob asks the geocode fleet to plan job JobID (map_geocode_jobs).
type GeocodeJob struct {
	JobID int64 `json:"jobId"`
}

// GeocodeChunk asks the geocode fleet to place the pending locations of job
// JobID whose IDs lie in [FirstLocationID, LastLocationID].
type GeocodeChunk struct {
	JobID           int64 `json:"jobId"`
	FirstLocationID int64 `json:"firstLocationId"`
	LastLocationID  int64 `json:"lastLocationId"`
}

// GeocodeChunkMaxRetry bounds the attempts of a chunk; the last one marks
// the locations still pending FAILED so that the job ends.
const GeocodeChunkMaxRetry = 8

// NewGeocodeJob builds a job's planning task, one per job.
func NewGeocodeJob(p GeocodeJob) (*asynq.Task, error) {
	return newTask(TypeGeocodeJob, p,
		asynq.Queue(QueueGeocode),
		asynq.MaxRetry(10),
		asynq.Timeout(10*time.Minute),
		asynq.TaskID(GeocodeJobTaskID(p.JobID)),
	)
}

// GeocodeJobTaskID is the task ID of job id's planning task.
func GeocodeJobTaskID(jobID int64) string { return "geocode:job:" + strconv.FormatInt(jobID, 10) }

// NewGeocodeChunk builds a chunk task. Its ID comes from the job and the
// chunk's first location, so planning twice enqueues each chunk once.
func NewGeocodeChunk(p GeocodeChunk) (*asynq.Task, error) {
	return newTask(TypeGeocodeChunk, p,
		asynq.Queue(QueueGeocode),
		asynq.MaxRetry(GeocodeChunkMaxRetry),
		// A chunk waits its turn for Nominatim's one request a second,
		// shared with every other chunk of the fleet.
		asynq.Timeout(2*time.Hour),
		asynq.TaskID(GeocodeChunkTaskID(p.JobID, p.FirstLocationID)),
	)
}

// GeocodeChunkTaskID is the task ID of the chunk of job jobID starting at
// location firstID.
func GeocodeChunkTaskID(jobID, firstID int64) string {
	return "geocode:chunk:" + strconv.FormatInt(jobID, 10) + ":" + strconv.FormatInt(firstID, 10)
}

// GeocodeSweep plans again the jobs still QUEUED or RUNNING that have not
// changed for OlderThanSeconds (their tasks may have been lost from Redis).
type GeocodeSweep struct {
	OlderThanSeconds int `json:"olderThanSeconds"`
	Limit            int `json:"limit"`
}

// NewGeocodeSweep builds the periodic sweep.
func NewGeocodeSweep(p GeocodeSweep) (*asynq.Task, error) {
	return newTask(TypeGeocodeSweep, p,
		asynq.Queue(QueueGeocode),
		asynq.MaxRetry(1),
		asynq.Timeout(time.Minute),
		asynq.Unique(4*time.Minute),
	)
}
