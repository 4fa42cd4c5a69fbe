-- A campaign's kind names the job it does: recall, offer, survey,
-- follow_up, clean_up or urgent_move. Campaigns created before kinds were
-- checked are recalls, the only kind there was.
UPDATE campaigns SET kind = 'recall'
    WHERE kind NOT IN ('recall', 'offer', 'survey', 'follow_up', 'clean_up', 'urgent_move');

-- An attempt keeps what its call script collected, as a JSON array of
-- {"question", "value", "keys"} (a survey asks several questions); empty
-- when nothing was asked. result stays the attempt's overall result.
ALTER TABLE attempts ADD COLUMN answers TEXT NOT NULL DEFAULT '';
