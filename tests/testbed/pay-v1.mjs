// Pays URL with the official client's v1 scheme; see pay.mjs. Usage: PAYER_KEY=0x… node pay-v1.mjs URL
import { pay } from './pay.mjs';
await pay(1);
