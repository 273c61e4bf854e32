// Node.js driver against a 3-member sandbox: discovery, a secondary read, a step-down and a
// killed primary, each followed by a retryable write on the new primary.
// Usage: node replset.js <uri>; prints one JSON line with what it saw.
const { MongoClient } = require("mongodb");

async function main() {
  const client = new MongoClient(process.argv[2], { serverSelectionTimeoutMS: 60000 });
  await client.connect();
  const admin = client.db("admin");
  const coll = client.db("node").collection("rs");
  await coll.insertOne({ _id: 1 });
  const fromSecondary = await coll.findOne({ _id: 1 }, { readPreference: "secondary" });
  const first = await admin.command({ hello: 1 });
  await admin.command({ replSetStepDown: 60 });
  await coll.insertOne({ _id: 2 });
  const second = await admin.command({ hello: 1 });
  // Sent to a secondary: the primary would die before it could answer.
  await admin.command(
    { sandboxMember: second.primary, action: "kill" },
    { readPreference: "secondary" },
  );
  // One retry may come too early for the election: wait until a member names a new primary.
  const deadline = Date.now() + 60000;
  for (;;) {
    const seen = await admin.command({ hello: 1 }, { readPreference: "secondary" });
    if (seen.primary && seen.primary !== second.primary) break;
    if (Date.now() > deadline) throw new Error("no new primary");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await coll.insertOne({ _id: 3 });
  const third = await admin.command({ hello: 1 });
  const docs = await coll.find({}).sort({ _id: 1 }).toArray();
  console.log(
    JSON.stringify({
      hosts: first.hosts,
      primaries: [first.primary, second.primary, third.primary],
      fromSecondary,
      docs,
    }),
  );
  await client.close();
  // A server selection the driver left pending for the killed member would keep the
  // process alive until serverSelectionTimeoutMS: what it saw is printed, so exit.
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
