package campaigns

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/storage"
	"changemaker/tasks"
)

func (h *Handler) listEmails(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	status := c.Query("status")
	if status != "" {
		var v httpx.Validator
		v.OneOf("status", status, storage.EmailStatuses)
		if err := v.Err(); err != nil {
			return err
		}
	}
	list, total, err := h.Store.ListEmails(c.UserContext(), storage.EmailFilter{CampaignID: camp.ID, Status: status,
		Limit: page.Limit, Offset: page.Offset()})
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toEmailView), page, total))
}

func (h *Handler) emailStats(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	st, err := h.Store.CampaignEmailStats(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"stats": toEmailStatsView(st)})
}

// retryEmail puts a FAILED email back in the queue. Its archived task still
// holds the task ID, so it is deleted first.
func (h *Handler) retryEmail(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	id, err := httpx.ParamID(c, "emailId")
	if err != nil {
		return err
	}
	e, err := h.Store.EmailByID(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("email %d: %w", id, err), "no such email")
	}
	if e.CampaignID != camp.ID {
		return httpx.NotFound("no such email")
	}
	if e.Status != storage.EmailFailed || e.Method != storage.MethodSMTP {
		return httpx.Conflict("only a FAILED email can be retried")
	}
	if h.Inspector != nil {
		err := h.Inspector.DeleteTask(tasks.QueueEmail, tasks.SendEmailTaskID(id))
		if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			h.Log.Warn("delete archived email task", "email_id", id, "err", err)
		}
	}
	e, err = h.Store.RequeueFailedEmail(c.UserContext(), camp.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return httpx.Conflict("only a FAILED email can be retried")
	}
	if err != nil {
		return err
	}
	h.enqueueEmail(c.UserContext(), e.ID)
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"email": toEmailView(e)})
}
