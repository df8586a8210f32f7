// Activities for the update workflows, as in Temporal's message-passing sample.
const greetings: Record<string, string> = {
  arabic: "مرحبا بالعالم",
  chinese: "你好，世界",
  english: "Hello, world",
  french: "Bonjour, monde",
  hindi: "नमस्ते दुनिया",
  portuguese: "Olá mundo",
  spanish: "¡Hola mundo",
}

export async function callGreetingService(toLanguage: string): Promise<string | undefined> {
  return greetings[toLanguage]
}
