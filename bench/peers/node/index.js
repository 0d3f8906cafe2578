// Peer A: the seed's own design. fetchData reads the whole collection and maps each
// document to a few fields; createEntry adds one document. No pagination, no auth.
const { onRequest } = require("firebase-functions/v2/https");
const admin = require("firebase-admin");

admin.initializeApp({ projectId: process.env.GCLOUD_PROJECT });
const collection = () =>
  admin.firestore().collection(process.env.ENTRIES_COLLECTION || "entries");

exports.fetchData = onRequest(async (req, res) => {
  const snapshot = await collection().get();
  res.json(
    snapshot.docs.map((doc) => ({
      id: doc.id,
      description: doc.get("description"),
      amount: doc.get("amount"),
      date: doc.get("date"),
    })),
  );
});

exports.createEntry = onRequest(async (req, res) => {
  const ref = await collection().add({ ...req.body, createdAt: new Date() });
  res.status(201).json({ id: ref.id });
});
