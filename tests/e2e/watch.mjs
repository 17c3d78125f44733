// Watches one answer stream with the unmodified @rails/actioncable client, printing text as it
// arrives. Usage: node tests/e2e/watch.mjs http://127.0.0.1:8080 TOKEN MESSAGE_ID
import { createConsumer, watchMessage } from './cable_env.mjs';

const [base, token, messageId] = process.argv.slice(2);
if (!base || !token || !messageId) {
  console.error('usage: node tests/e2e/watch.mjs BASE_URL TOKEN MESSAGE_ID');
  process.exit(2);
}
const consumer = createConsumer(`${base.replace(/^http/, 'ws')}/cable?jid=${encodeURIComponent(token)}`);
const w = watchMessage(consumer, messageId);
let printed = 0;
const timer = setInterval(() => {
  if (w.text.length > printed) {
    process.stdout.write(w.text.slice(printed));
    printed = w.text.length;
  }
}, 20);
w.rejectedP.then(() => { console.error('subscription rejected'); process.exit(1); });
w.ended.then((end) => {
  clearInterval(timer);
  process.stdout.write(w.text.slice(printed) + `\n[streaming_end: ${end.status}]\n`);
  consumer.disconnect();
  process.exit(0);
});
