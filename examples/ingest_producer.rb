#!/usr/bin/env ruby
# An application's own backend streaming an answer through actorcable (SPEC §11), shaped like a
# Rails AiResponseJob: it creates the answer in a chat, then streams its parts as NDJSON in one
# chunked request while it produces them (reasoning, a tool call, the text, usage, the end), and
# prints actorcable's account of the stream. Ruby's standard library only.
#
#   ACTORCABLE_INGEST_KEY=... ruby examples/ingest_producer.rb http://127.0.0.1:8080 CHAT_ID [PARTS] [PACE_MS]
#
# Prints "answer <message id>" once the answer exists, then the final response's JSON; exits 0
# when the stream completed.
require 'json'
require 'net/http'
require 'uri'

base, chat = ARGV.fetch(0), ARGV.fetch(1)
parts = Integer(ARGV[2] || 60)
pace = Float(ARGV[3] || 20) / 1000
key = ENV.fetch('ACTORCABLE_INGEST_KEY')
uri = URI(base)
auth = { 'Authorization' => "Bearer #{key}" }

created = Net::HTTP.start(uri.host, uri.port) do |http|
  http.post("/ingest/chats/#{chat}/answers", { model_id: 'ruby-agent' }.to_json,
            auth.merge('Content-Type' => 'application/json'))
end
abort "answer not created: #{created.code} #{created.body}" unless created.code == '201'
id = JSON.parse(created.body).fetch('id')
puts "answer #{id}"
$stdout.flush

# The job writes parts into a pipe as it produces them; Net::HTTP sends what the pipe holds as
# chunks of one request body.
reader, writer = IO.pipe
writer.sync = true
job = Thread.new do
  emit = ->(part) { writer.puts(part.to_json); sleep pace }
  thinking = [parts / 10, 1].max
  words = parts - thinking - 4
  thinking.times { |i| emit.(type: 'thinking', text: "Considering step #{i}. ") }
  emit.(type: 'tool', call_id: 'call_1', name: 'search', status: 'running', summary: 'Searching the docs')
  emit.(type: 'tool', call_id: 'call_1', name: 'search', status: 'done', summary: 'Found 3 pages')
  words.times { |i| emit.(type: 'text', text: "word#{i} ") }
  emit.(type: 'usage', input_tokens: 42, output_tokens: words, model_id: 'ruby-agent')
  emit.(type: 'end', status: 'complete')
ensure
  writer.close
end

request = Net::HTTP::Post.new("/ingest/messages/#{id}/stream",
                              auth.merge('Content-Type' => 'application/x-ndjson',
                                         'Transfer-Encoding' => 'chunked'))
request.body_stream = reader
response = Net::HTTP.start(uri.host, uri.port, read_timeout: 300) { |http| http.request(request) }
job.join
puts response.body
exit(response.code == '200' && JSON.parse(response.body)['status'] == 'complete' ? 0 : 1)
