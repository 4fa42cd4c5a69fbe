-- The CUP node of a contact: the node of the bookings it calls about, so
-- that a CUP manager's pages count the calls made for its node. NULL when
-- the contact names no booking of one node (a satisfaction survey's
-- caller, a patient with bookings on several nodes): only the Region's
-- roles see those.
ALTER TABLE contacts ADD COLUMN node TEXT;

-- What the contacts made before this column tell of their node: the
-- bookings a recall run asked about by number, the request a clean-up
-- campaign came from, the booking of an urgent move's or an offer's call.
UPDATE contacts SET node = (SELECT MIN(r.node) FROM recall_bookings r
        WHERE r.campaign_id = contacts.campaign_id AND r.phone = contacts.phone
        HAVING COUNT(DISTINCT r.node) = 1)
    WHERE node IS NULL;
UPDATE contacts SET node = (SELECT MIN(q.node) FROM cleanup_requests q WHERE q.campaign_id = contacts.campaign_id)
    WHERE node IS NULL AND campaign_id IN (SELECT campaign_id FROM cleanup_requests WHERE campaign_id <> 0);
UPDATE contacts SET node = (SELECT MIN(u.node) FROM urgent_targets u WHERE u.contact_id = contacts.id)
    WHERE node IS NULL AND id IN (SELECT contact_id FROM urgent_targets WHERE contact_id <> 0);
UPDATE contacts SET node = (SELECT MIN(m.node) FROM urgent_moves m WHERE m.campaign_id = contacts.campaign_id)
    WHERE node IS NULL AND campaign_id IN (SELECT campaign_id FROM urgent_moves);
UPDATE contacts SET node = (SELECT MIN(o.node) FROM offers o WHERE o.contact_id = contacts.id)
    WHERE node IS NULL AND id IN (SELECT contact_id FROM offers WHERE contact_id <> 0);

CREATE INDEX contacts_node ON contacts (node, campaign_id) WHERE node IS NOT NULL;
