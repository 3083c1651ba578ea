// The approval popup: the queue of payments waiting for an answer.
import { mount } from "svelte";
import "./style.css";
import Popup from "./popup/Popup.svelte";

const target = document.getElementById("popup");
if (target) mount(Popup, { target });
