// Peer A: the seed's own design. fetchData reads the whole collection and maps each
// document to a few fields; createEntry adds one document. No pagination, no auth.
const { onRequest } = require("firebase-functions/v2/https");
const admin = require("firebase-admin");

admin.initializeApp({ projectId: process.env.GCLOUD_PROJECT });
const collection = () =>
  admin.firestore().collection(process.env.ENTRIES_COLLECTION || "entries");

async function fetchAll(req, res) {
  const snapshot = await collection().get();
  res.json(
    snapshot.docs.map((doc) => ({
      id: doc.id,
      description: doc.get("description"),
      amount: doc.get("amount"),
      date: doc.get("date"),
    })),
  );
}

async function create(req, res) {
  const ref = await collection().add({ ...req.body, createdAt: new Date() });
  res.status(201).json({ id: ref.id });
}

exports.fetchData = onRequest(fetchAll);
exports.createEntry = onRequest(create);

// Peer A2: the same design with the auth it implies: every call verifies the ID token with
// checkRevoked (a user lookup per call) and requires the partner role.
async function partner(req, res) {
  const header = req.get("Authorization") || "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  try {
    const claims = await admin.auth().verifyIdToken(token, true);
    if (claims.role !== "partner") {
      res.status(403).json({ error: "not a partner" });
      return null;
    }
    return claims;
  } catch (err) {
    res.status(401).json({ error: "unauthenticated" });
    return null;
  }
}

exports.fetchDataAuth = onRequest(async (req, res) => {
  if (await partner(req, res)) await fetchAll(req, res);
});

exports.createEntryAuth = onRequest(async (req, res) => {
  if (await partner(req, res)) await create(req, res);
});
