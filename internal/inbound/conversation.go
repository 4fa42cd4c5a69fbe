package inbound

import (
	"context"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/store"
)

// ConversationStore is what an operator's conversation needs; *store.Store
// has it.
type ConversationStore interface {
	ReopenWorkItem(ctx context.Context, id, replyID int64, now time.Time) error
}

// Conversation is the job of an operator who answered a patient from the
// worklist (store.JobConversation): the patient's next message, whatever it
// says, goes back to that work item, for the same operator.
type Conversation struct {
	Store ConversationStore
}

// Match takes any message with some text.
func (c Conversation) Match(m Message) Match {
	if strings.TrimSpace(m.Body) == "" {
		return No
	}
	return FreeText
}

// Handle reopens the work item with the new message. No answer: the
// operator answers.
func (c Conversation) Handle(ctx context.Context, e store.Expectation, m Message) (Outcome, error) {
	if err := c.Store.ReopenWorkItem(ctx, e.RefID, m.ReplyID, m.ReceivedAt); err != nil {
		return Outcome{}, err
	}
	return Outcome{Status: store.ReplyInbox, Close: true}, nil
}

// HowToAnswer is empty: a conversation takes any text, so it is never one
// of the jobs a message is asked back about.
func (c Conversation) HowToAnswer(store.Expectation) string { return "" }
