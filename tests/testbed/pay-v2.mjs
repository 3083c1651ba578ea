// Pays URL with the official v2 client; see pay.mjs. Usage: PAYER_KEY=0x… node pay-v2.mjs URL
import { pay } from './pay.mjs';
await pay(2);
